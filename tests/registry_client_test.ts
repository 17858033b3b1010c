import assert from "node:assert/strict";
import { join } from "node:path";
import { parseChallenges } from "../src/registry/challenge.ts";
import { RegistryClient } from "../src/registry/client.ts";
import { findCredential } from "../src/registry/credentials.ts";
import { RegistryTarget } from "../src/registry/registry_target.ts";
import { backoffMs, parseRetryAfter, type RetryPolicy } from "../src/registry/retry.ts";
import { registryHostsIn } from "../src/insecure.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { IntegrityError } from "../src/errors.ts";
import { readAll } from "../src/target.ts";
import { tempDir } from "./support/tree.ts";

/** A policy that records waits instead of sleeping. */
function recordingPolicy(waits: number[]): RetryPolicy {
  return {
    attempts: 5,
    baseMs: 100,
    maxWaitMs: 20_000,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    idleMs: 30_000,
  };
}

type Handler = (request: Request, url: URL) => Response | Promise<Response>;

/** A stub HTTP server on loopback; `/v2/` answers 200 unless the handler says otherwise. */
function stub(handler: Handler): Deno.HttpServer<Deno.NetAddr> & { host: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    return handler(request, url);
  });
  return Object.assign(server, { host: `127.0.0.1:${server.addr.port}` });
}

Deno.test("WWW-Authenticate challenges parse with quoted commas and several schemes", () => {
  assert.deepEqual(
    parseChallenges(
      'Bearer realm="https://a/token",service="reg",scope="repository:x/y:pull,push"',
    ),
    [{
      scheme: "bearer",
      params: { realm: "https://a/token", service: "reg", scope: "repository:x/y:pull,push" },
    }],
  );
  assert.deepEqual(
    parseChallenges('Basic realm="a, b", Bearer realm=c,error="insufficient_scope"'),
    [
      { scheme: "basic", params: { realm: "a, b" } },
      { scheme: "bearer", params: { realm: "c", error: "insufficient_scope" } },
    ],
  );
  assert.deepEqual(parseChallenges(""), []);
});

Deno.test("backoff doubles, honours Retry-After in seconds or as a date, and is capped", () => {
  const policy = recordingPolicy([]);
  assert.equal(backoffMs(policy, 1, null), 100);
  assert.equal(backoffMs(policy, 3, null), 400);
  assert.equal(backoffMs(policy, 1, "2"), 2000);
  assert.equal(backoffMs(policy, 1, "99999"), 20_000);
  const inFive = new Date(Date.now() + 5000).toUTCString();
  assert.ok(Math.abs(parseRetryAfter(inFive)! - 5000) < 1500);
  assert.equal(parseRetryAfter("soon"), undefined);
});

Deno.test("503 with Retry-After, 429 and 500 are retried; a 400 is not", async () => {
  const waits: number[] = [];
  let calls = 0;
  await using server = stub((_req, url) => {
    if (url.pathname === "/v2/") return new Response("{}");
    calls++;
    if (calls === 1) return new Response("busy", { status: 503, headers: { "Retry-After": "1" } });
    if (calls === 2) return new Response("slow down", { status: 429 });
    if (calls === 3) return new Response("oops", { status: 500 });
    if (url.pathname.endsWith("/bad")) return new Response("no", { status: 400 });
    return new Response("ok");
  });
  const client = new RegistryClient(server.host, {
    retry: recordingPolicy(waits),
    plainHttp: true,
  });
  const response = await client.send({ method: "GET", url: "/v2/x/good", scopes: [] });
  assert.equal(await response.text(), "ok");
  assert.deepEqual(waits, [1000, 200, 400]);
  const bad = await client.send({ method: "GET", url: "/v2/x/bad", scopes: [] });
  await bad.body?.cancel();
  assert.equal(bad.status, 400);
  assert.equal(calls, 5);
});

Deno.test("persistent 503s give up after the bounded number of attempts", async () => {
  const waits: number[] = [];
  await using server = stub((_req, url) =>
    url.pathname === "/v2/" ? new Response("{}") : new Response("down", { status: 503 })
  );
  const target = new RegistryTarget(
    new RegistryClient(server.host, { retry: recordingPolicy(waits), plainHttp: true }),
    "x",
    { locations: null },
  );
  await assert.rejects(target.resolve("v1"), /answered 503/);
  assert.equal(waits.length, 4);
});

Deno.test("a blob download cut mid-body resumes with Range and is verified whole", async () => {
  const blob = new Uint8Array(300_000).map((_, i) => i % 251);
  const digest = sha256Digest(blob);
  const ranges: (string | null)[] = [];
  await using server = stub((request, url) => {
    if (url.pathname === "/v2/") return new Response("{}");
    const range = request.headers.get("range");
    ranges.push(range);
    if (!range) {
      // Send the first 100 000 bytes, then break the connection.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(blob.subarray(0, 100_000));
          setTimeout(() => controller.error(new Error("reset")), 20);
        },
      });
      return new Response(body, { headers: { "Content-Length": String(blob.byteLength) } });
    }
    const start = Number(/bytes=(\d+)-/.exec(range)![1]);
    return new Response(blob.subarray(start), {
      status: 206,
      headers: { "Content-Range": `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}` },
    });
  });
  const target = new RegistryTarget(
    new RegistryClient(server.host, { retry: recordingPolicy([]), plainHttp: true }),
    "x",
    { locations: null },
  );
  const bytes = await readAll(
    await target.fetchBlob({
      mediaType: "application/octet-stream",
      digest,
      size: blob.byteLength,
    }),
  );
  assert.deepEqual(bytes, blob);
  assert.equal(ranges[0], null);
  assert.match(ranges[1] ?? "", /^bytes=\d+-$/);
});

Deno.test("blob bytes that do not match the digest fail with an integrity error", async () => {
  const blob = new TextEncoder().encode("the real content");
  await using server = stub((_req, url) =>
    url.pathname === "/v2/"
      ? new Response("{}")
      : new Response(new TextEncoder().encode("other content!!!"))
  );
  const target = new RegistryTarget(new RegistryClient(server.host, { plainHttp: true }), "x", {
    locations: null,
  });
  const stream = await target.fetchBlob({
    mediaType: "x/y",
    digest: sha256Digest(blob),
    size: blob.byteLength,
  });
  await assert.rejects(readAll(stream), IntegrityError);
});

Deno.test("a redirect to another host never carries the Authorization header", async () => {
  const seenByOther: (string | null)[] = [];
  const blob = new TextEncoder().encode("blob from a CDN");
  await using other = stub((request) => {
    seenByOther.push(request.headers.get("authorization"));
    return new Response(blob);
  });
  let registryAuth: string | null = null;
  await using registry = stub((request, url) => {
    const auth = request.headers.get("authorization");
    if (auth !== `Basic ${btoa("u:secret")}`) {
      return new Response("{}", {
        status: 401,
        headers: { "WWW-Authenticate": 'Basic realm="r"' },
      });
    }
    if (url.pathname === "/v2/") return new Response("{}");
    registryAuth = auth;
    return new Response(null, {
      status: 307,
      headers: { Location: `http://${other.host}/blob?sig=abc` },
    });
  });
  const client = new RegistryClient(registry.host, {
    plainHttp: true,
    credentials: { username: "u", password: "secret" },
  });
  const target = new RegistryTarget(client, "x", { locations: null });
  const bytes = await readAll(
    await target.fetchBlob({ mediaType: "x/y", digest: sha256Digest(blob), size: blob.byteLength }),
  );
  assert.deepEqual(bytes, blob);
  assert.ok(registryAuth, "the registry itself got credentials");
  assert.deepEqual(seenByOther, [null]);
});

Deno.test("credentials are looked up in order: flags, env, docker config, podman auth file", async () => {
  await using dir = await tempDir();
  const saved = Object.fromEntries(
    ["DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "ARTIFACT_CLI_USERNAME", "ARTIFACT_CLI_PASSWORD"].map((
      k,
    ) => [k, Deno.env.get(k)]),
  );
  try {
    Deno.env.set("DOCKER_CONFIG", join(dir.path, "docker"));
    Deno.env.set("REGISTRY_AUTH_FILE", join(dir.path, "podman.json"));
    Deno.env.delete("ARTIFACT_CLI_USERNAME");
    Deno.env.delete("ARTIFACT_CLI_PASSWORD");
    await Deno.mkdir(join(dir.path, "docker"));
    await Deno.writeTextFile(
      join(dir.path, "podman.json"),
      JSON.stringify({ auths: { "reg.example:5000": { auth: btoa("podman:p") } } }),
    );
    assert.equal((await findCredential("reg.example:5000"))?.username, "podman");
    await Deno.writeTextFile(
      join(dir.path, "docker", "config.json"),
      JSON.stringify({
        auths: {
          "https://reg.example:5000/v1/": { auth: btoa("docker:d") },
          "https://index.docker.io/v1/": { username: "hub", password: "h" },
        },
      }),
    );
    assert.equal((await findCredential("reg.example:5000"))?.username, "docker");
    for (const alias of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
      assert.equal((await findCredential(alias))?.username, "hub", alias);
    }
    assert.equal(await findCredential("other.example"), undefined);
    Deno.env.set("ARTIFACT_CLI_USERNAME", "env");
    Deno.env.set("ARTIFACT_CLI_PASSWORD", "e");
    assert.equal((await findCredential("reg.example:5000"))?.username, "env");
    const flags = await findCredential("reg.example:5000", { username: "flag", password: "f" });
    assert.equal(flags?.username, "flag");
    assert.equal(flags?.source, "command line");
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  }
});

Deno.test("--insecure is limited to the registry hosts named on the command line", () => {
  assert.deepEqual(registryHostsIn(["push", "reg.example:5000/a/b:v1", "./dir", "--insecure"]), [
    "reg.example",
  ]);
  assert.deepEqual(registryHostsIn(["copy", "a.io/x/y", "oci:./l:v1", "b.io/z/w"]), [
    "a.io",
    "b.io",
  ]);
  assert.deepEqual(registryHostsIn(["pull", "./not-a-ref/", "-o", "out"]), []);
});
