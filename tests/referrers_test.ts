import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { ParseError } from "../src/errors.ts";
import { RegistryClient } from "../src/registry/client.ts";
import { RegistryTarget } from "../src/registry/registry_target.ts";
import { apiReferrers } from "../src/referrers/discover.ts";
import { startReferrersStub } from "./support/referrers_stub.ts";
import { freePort, startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";

const SBOM = "application/spdx+json";
const SIG = "application/vnd.example.signature.v1";

interface Node {
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  referrers?: Node[];
}

async function cli(args: string[], env: Record<string, string>): Promise<string> {
  const result = await runCli(args, { env });
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Push content v1, an SBOM and a second note attached to it, and a signature of the SBOM. */
async function attachAll(base: string, dir: string, env: Record<string, string>) {
  await Deno.mkdir(join(dir, "lab"));
  await Deno.writeTextFile(join(dir, "lab", "README.md"), "# lab\n");
  await Deno.writeTextFile(join(dir, "sbom.json"), '{"spdxVersion":"SPDX-2.3"}');
  await Deno.writeTextFile(join(dir, "sig.txt"), "signed");
  await Deno.writeTextFile(join(dir, "note.txt"), "reviewed");
  const subject = JSON.parse(
    await cli(["push", `${base}:v1`, join(dir, "lab"), "--format", "json"], env),
  );
  const push = async (tag: string, file: string, type: string, of: string) =>
    JSON.parse(
      await cli([
        "push",
        `${base}:${tag}`,
        file,
        "--artifact-type",
        type,
        "--subject",
        of,
        "--format",
        "json",
      ], { ...env, PWD: dir }),
    );
  const sbom = await push("sbom", join(dir, "sbom.json"), SBOM, `${base}:v1`);
  const note = await push("note", join(dir, "note.txt"), "text/plain", subject.digest);
  const sig = await push("sig", join(dir, "sig.txt"), SIG, `@${sbom.digest}`);
  return { subject, sbom, note, sig };
}

async function checkDiscovery(
  base: string,
  env: Record<string, string>,
  pushed: Awaited<ReturnType<typeof attachAll>>,
) {
  const { subject, sbom, note, sig } = pushed;
  assert.equal(sbom.subject.digest, subject.digest);
  const listed = JSON.parse(await cli(["referrers", `${base}:v1`, "--format", "json"], env));
  assert.equal(listed.subject.digest, subject.digest);
  assert.deepEqual(
    listed.referrers.map((r: Node) => [r.digest, r.artifactType]).sort(),
    [[sbom.digest, SBOM], [note.digest, "text/plain"]].sort(),
  );
  assert.ok(
    listed.referrers.every((r: Node) => r.referrers === undefined),
    "depth 1 has no nesting",
  );
  const filtered = JSON.parse(
    await cli(["referrers", `${base}:v1`, "--artifact-type", SBOM, "--format", "json"], env),
  );
  assert.deepEqual(filtered.referrers.map((r: Node) => r.digest), [sbom.digest]);
  const deep = JSON.parse(
    await cli(["referrers", `${base}:v1`, "--depth", "2", "--format", "json"], env),
  );
  const sbomNode = deep.referrers.find((r: Node) => r.digest === sbom.digest);
  assert.deepEqual(sbomNode.referrers.map((r: Node) => [r.digest, r.artifactType]), [[
    sig.digest,
    SIG,
  ]]);
  const text = await cli(["referrers", `${base}:v1`, "--depth", "2"], env);
  assert.match(text, new RegExp(`^${subject.digest}$`, "m"));
  assert.match(text, new RegExp(`[│ ]   └── ${SIG.replaceAll(".", "\\.")} ${sig.digest}`));
  return listed.source as string;
}

Deno.test("referrers on Distribution 2.8: the sha256-<hex> fallback index is created, merged and listed", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  const base = `${registry.host}/team/lab`;
  const pushed = await attachAll(base, dir.path, env);
  assert.equal(await checkDiscovery(base, env, pushed), "tag");
  // The fallback index holds both referrers of v1 (the second push kept the first entry).
  const tag = pushed.subject.digest.replace(":", "-");
  const tags = JSON.parse(await cli(["tags", base, "--format", "json"], env)).tags;
  assert.ok(tags.includes(tag), tags.join(" "));
  const response = await fetch(`${registry.url}/v2/team/lab/manifests/${tag}`, {
    headers: { Accept: "application/vnd.oci.image.index.v1+json" },
  });
  const index = await response.json();
  assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
  assert.deepEqual(
    index.manifests.map((m: Node) => m.digest).sort(),
    [pushed.sbom.digest, pushed.note.digest].sort(),
  );
  // Pushing the same referrer again does not add a duplicate entry.
  await cli([
    "push",
    `${base}:sbom`,
    join(dir.path, "sbom.json"),
    "--artifact-type",
    SBOM,
    "--subject",
    `${base}:v1`,
  ], env);
  const again = await (await fetch(`${registry.url}/v2/team/lab/manifests/${tag}`, {
    headers: { Accept: "application/vnd.oci.image.index.v1+json" },
  })).json();
  assert.equal(again.manifests.length, 2);
  // The subject's manifest in the referrer is the one v1 points at.
  const manifest =
    await (await fetch(`${registry.url}/v2/team/lab/manifests/${pushed.sbom.digest}`, {
      headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
    })).json();
  assert.equal(manifest.subject.digest, pushed.subject.digest);
  assert.equal(manifest.artifactType, SBOM);
  // Pulling v1 ignores its referrers; pulling the SBOM by digest gets the SBOM.
  const out = join(dir.path, "out");
  await cli(["pull", `${base}:v1`, "-o", out], env);
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["README.md"]);
  const sbomOut = join(dir.path, "sbom-out");
  await cli(["pull", `${base}@${pushed.sbom.digest}`, "-o", sbomOut], env);
  assert.equal(await Deno.readTextFile(join(sbomOut, "sbom.json")), '{"spdxVersion":"SPDX-2.3"}');
});

Deno.test("referrers through the Referrers API: no fallback tag, pages followed, filter honoured", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  await using stub = startReferrersStub(registry.url);
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  const base = `${stub.host}/team/lab`;
  const pushed = await attachAll(base, dir.path, env);
  assert.equal(await checkDiscovery(base, env, pushed), "api");
  const tags = JSON.parse(await cli(["tags", base, "--format", "json"], env)).tags;
  assert.deepEqual(
    tags.filter((t: string) => t.startsWith("sha256-")),
    [],
    "the API needs no fallback tag",
  );
  assert.ok(stub.apiRequests.some((r) => r.includes("last=1")), "the second page was fetched");
  assert.ok(stub.apiRequests.some((r) => r.includes("artifactType=")), "the filter was sent");
});

Deno.test("referrers in an OCI layout: index.json entries whose subject is the manifest", async () => {
  await using dir = await tempDir();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  const base = `oci:${join(dir.path, "store")}`;
  const pushed = await attachAll(base, dir.path, env);
  assert.equal(await checkDiscovery(base, env, pushed), "layout");
  const index = JSON.parse(await Deno.readTextFile(join(dir.path, "store", "index.json")));
  assert.ok(
    !index.manifests.some((m: { annotations?: Record<string, string> }) =>
      m.annotations?.["org.opencontainers.image.ref.name"]?.startsWith("sha256-")
    ),
    "a layout needs no fallback tag",
  );
});

Deno.test("push --subject refuses a subject in another repository, and a missing one", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  await Deno.writeTextFile(join(dir.path, "sbom.json"), "{}");
  const other = await runCli([
    "push",
    `${registry.host}/team/a:sbom`,
    join(dir.path, "sbom.json"),
    "--artifact-type",
    SBOM,
    "--subject",
    `${registry.host}/team/b:v1`,
  ], { env });
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /not in the repository pushed to/);
  const missing = await runCli([
    "push",
    `${registry.host}/team/a:sbom`,
    join(dir.path, "sbom.json"),
    "--artifact-type",
    SBOM,
    "--subject",
    `${registry.host}/team/a:nope`,
  ], { env });
  assert.equal(missing.code, 3, missing.stderr);
  const tags = await runCli(["tags", `${registry.host}/team/a`, "--format", "json"], { env });
  assert.ok(
    tags.code !== 0 || !JSON.parse(tags.stdout).tags.includes("sbom"),
    "nothing was pushed",
  );
});

Deno.test("copy --referrers registry -> layout -> API registry keeps every referrer digest; describe counts them", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  await using stub = startReferrersStub(registry.url);
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  const base = `${registry.host}/team/lab`;
  const pushed = await attachAll(base, dir.path, env);
  const layout = `oci:${join(dir.path, "airgap")}`;
  const hops: [string, string, string][] = [
    [`${base}:v1`, `${layout}:v1`, layout],
    [`${layout}:v1`, `${stub.host}/team/copy:v1`, `${stub.host}/team/copy`],
  ];
  for (const [from, to, where] of hops) {
    const result = JSON.parse(
      await cli(["copy", from, to, "--referrers", "--format", "json"], env),
    );
    assert.equal(result.digest, pushed.subject.digest);
    assert.deepEqual(
      result.referrers.map((r: Node) => r.digest).sort(),
      [pushed.sbom.digest, pushed.note.digest, pushed.sig.digest].sort(),
      `${from} -> ${to}`,
    );
    const deep = JSON.parse(
      await cli(["referrers", `${where}:v1`, "--depth", "2", "--format", "json"], env),
    );
    const sbomNode = deep.referrers.find((r: Node) => r.digest === pushed.sbom.digest);
    assert.equal(sbomNode.artifactType, SBOM, to);
    assert.deepEqual(sbomNode.referrers.map((r: Node) => r.digest), [pushed.sig.digest], to);
    const described = JSON.parse(await cli(["describe", `${where}:v1`, "--format", "json"], env));
    assert.deepEqual(described.referrers, { count: 2, types: { [SBOM]: 1, "text/plain": 1 } });
  }
  const text = await cli(["describe", `${stub.host}/team/copy:v1`], env);
  assert.match(text, /^Referrers: {3}2 \(application\/spdx\+json 1, text\/plain 1\)$/m);
  // Without --referrers nothing but the subject is copied.
  await cli(["copy", `${base}:v1`, `${registry.host}/team/plain:v1`], env);
  const none = JSON.parse(
    await cli(["referrers", `${registry.host}/team/plain:v1`, "--format", "json"], env),
  );
  assert.deepEqual(none.referrers, []);
});

Deno.test("a fallback index replaced by another writer right after our put is merged again (retry)", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  await Deno.mkdir(join(dir.path, "lab"));
  await Deno.writeTextFile(join(dir.path, "lab", "a.txt"), "a");
  await Deno.writeTextFile(join(dir.path, "other.txt"), "other");
  await Deno.writeTextFile(join(dir.path, "mine.txt"), "mine");
  const direct = `${registry.host}/team/race`;
  const subject = JSON.parse(
    await cli(["push", `${direct}:v1`, join(dir.path, "lab"), "--format", "json"], env),
  );
  const other = JSON.parse(
    await cli([
      "push",
      `${direct}:other`,
      join(dir.path, "other.txt"),
      "--artifact-type",
      "text/plain",
      "--format",
      "json",
    ], env),
  );
  const tag = subject.digest.replace(":", "-");
  const theirs = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
      mediaType: other.mediaType,
      digest: other.digest,
      size: other.size,
      artifactType: "text/plain",
    }],
  }));
  // A proxy that, once, lets the other writer win: right after our put of the
  // fallback index it puts an index holding only the other referrer.
  let fallbackPuts = 0;
  const port = freePort();
  const proxy = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
    const response = await fetch(registry.url + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body,
      redirect: "manual",
    });
    if (
      request.method === "PUT" && url.pathname.endsWith(`/manifests/${tag}`) && ++fallbackPuts === 1
    ) {
      const put = await fetch(`${registry.url}/v2/team/race/manifests/${tag}`, {
        method: "PUT",
        headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
        body: theirs,
      });
      assert.equal(put.status, 201, await put.text());
    }
    const headers = new Headers(response.headers);
    const location = headers.get("location");
    if (location?.startsWith(registry.url)) {
      headers.set("location", location.slice(registry.url.length));
    }
    return new Response(response.body, { status: response.status, headers });
  });
  try {
    const mine = JSON.parse(
      await cli([
        "push",
        `127.0.0.1:${port}/team/race:mine`,
        join(dir.path, "mine.txt"),
        "--artifact-type",
        "text/plain",
        "--subject",
        subject.digest,
        "--format",
        "json",
      ], env),
    );
    assert.equal(fallbackPuts, 2, "the lost update was retried once");
    const listed = JSON.parse(await cli(["referrers", `${direct}:v1`, "--format", "json"], env));
    assert.deepEqual(
      listed.referrers.map((r: Node) => r.digest).sort(),
      [other.digest, mine.digest].sort(),
    );
  } finally {
    await proxy.shutdown();
  }
});

Deno.test("a hostile Referrers API is refused with a clear error: endless pages, too many entries, bad entries", async () => {
  const port = freePort();
  const digest = `sha256:${"a".repeat(64)}` as const;
  const entry = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: 2 };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    const index = (manifests: unknown[]) => JSON.stringify({ schemaVersion: 2, manifests });
    const headers = { "content-type": "application/vnd.oci.image.index.v1+json" };
    if (url.pathname.startsWith("/v2/endless/")) {
      const n = Number(url.searchParams.get("p") ?? "0") + 1;
      return new Response(index([]), {
        headers: { ...headers, link: `<${url.pathname}?p=${n}>; rel="next"` },
      });
    }
    if (url.pathname.startsWith("/v2/many/")) {
      return new Response(index(Array(5000).fill(entry)), { headers });
    }
    if (url.pathname.startsWith("/v2/bad/")) {
      return new Response(index([{ digest: "x" }]), { headers });
    }
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  });
  try {
    const client = new RegistryClient(`127.0.0.1:${port}`, { plainHttp: true });
    const cases: [string, RegExp][] = [
      ["endless", /more than 64 pages/],
      ["many", /more than 4096 referrers/],
      ["bad", /not a valid descriptor/],
    ];
    for (const [repository, message] of cases) {
      await assert.rejects(
        apiReferrers(new RegistryTarget(client, repository, { locations: null }), digest),
        (e: Error) => e instanceof ParseError && message.test(e.message),
        repository,
      );
    }
  } finally {
    await server.shutdown();
  }
});
