/**
 * A hostile registry (a small fake on loopback): URLs it names with other
 * schemes than http/https are refused, and bodies it sends (gzip-inflated
 * without end) are read only up to a cap.
 */
import assert from "node:assert/strict";
import { isolatedEnv } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";
import { makeCertificates } from "./support/registry.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Run the CLI, killed after `ms` (a hang counts as a failure, not a stuck suite). */
async function runBounded(args: string[], env: Record<string, string>, ms = 30_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const out = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
  };
}

/** A body of gzip that inflates to zeros (or `fill`) without end. */
function endlessGzip(fill = 0x20): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(fill);
  return new ReadableStream<BufferSource>({
    pull(c) {
      c.enqueue(chunk.slice());
    },
  }).pipeThrough(new CompressionStream("gzip")) as ReadableStream<Uint8Array>;
}

/** A fake registry answering with `handler`; `/v2/` answers 200 unless the handler does. */
function fakeRegistry(handler: (req: Request, base: string) => Response | undefined) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const answer = handler(req, base);
    if (answer) return answer;
    if (new URL(req.url).pathname === "/v2/") {
      return new Response("{}", {
        headers: {
          "content-type": "application/json",
          "docker-distribution-api-version": "registry/2.0",
        },
      });
    }
    return new Response("", { status: 404 });
  });
  return {
    host: `127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

const SCHEMES = [
  "file:///etc/passwd",
  "file:///dev/zero",
  "data:,hello",
  "blob:nothing",
  "ftp://127.0.0.1/x",
];

function assertRefused(result: { code: number; stderr: string }, host: string) {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.ok(lines[0].includes(host), result.stderr);
  assert.match(lines[0], /only http: and https: URLs are followed$/);
}

Deno.test("a manifest or blob redirect to another scheme is refused, naming the registry", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  for (const target of SCHEMES) {
    await using registry = fakeRegistry((req) =>
      new URL(req.url).pathname.startsWith("/v2/app/manifests/")
        ? new Response(null, { status: 307, headers: { location: target } })
        : undefined
    );
    const result = await runBounded(["manifest", `${registry.host}/app:v1`, "--plain-http"], env);
    assertRefused(result, registry.host);
  }
});

Deno.test("a token realm of another scheme is refused", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  for (const realm of SCHEMES) {
    await using registry = fakeRegistry((req) =>
      req.headers.has("authorization") ? undefined : new Response("", {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="${realm}",service="x"` },
      })
    );
    const result = await runBounded(["manifest", `${registry.host}/app:v1`, "--plain-http"], env);
    assertRefused(result, registry.host);
  }
});

Deno.test("a tag list Link of another scheme is refused", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  // A comma would split the Link header itself: data: URLs without one.
  for (const next of [...SCHEMES.filter((s) => !s.includes(",")), "data:text/plain;x"]) {
    await using registry = fakeRegistry((req) =>
      new URL(req.url).pathname === "/v2/app/tags/list"
        ? Response.json({ name: "app", tags: ["v1"] }, {
          headers: { link: `<${next}>; rel="next"` },
        })
        : undefined
    );
    const result = await runBounded(["tags", `${registry.host}/app`, "--plain-http"], env);
    assertRefused(result, registry.host);
  }
});

Deno.test("endless gzip bodies are read only up to a cap of decoded bytes", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const gz = (status: number, type = "application/json") =>
    new Response(endlessGzip(), {
      status,
      headers: { "content-encoding": "gzip", "content-type": type },
    });
  // An error body: truncated, the error reported.
  {
    await using registry = fakeRegistry((req) =>
      new URL(req.url).pathname.startsWith("/v2/app/manifests/") ? gz(400) : undefined
    );
    const result = await runBounded(["manifest", `${registry.host}/app:v1`, "--plain-http"], env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /answered 400 for manifest v1/);
  }
  // A token answer, a manifest, a tag page: refused over their limits.
  for (
    const [path, args, pattern] of [
      ["/token", ["manifest"], /token answer of .* is over the 65536-byte limit/],
      ["/v2/app/manifests/v1", ["manifest"], /over the 4194304-byte limit/],
      ["/v2/app/tags/list", ["tags"], /tag page of .* is over the 4194304-byte limit/],
    ] as const
  ) {
    await using registry = fakeRegistry((req, base) => {
      const url = new URL(req.url);
      if (url.pathname === path) return gz(200);
      if (
        path === "/token" && url.pathname.startsWith("/v2/") && !req.headers.has("authorization")
      ) {
        return new Response("", {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="${base}/token",service="x"` },
        });
      }
      return undefined;
    });
    const ref = args[0] === "tags" ? `${registry.host}/app` : `${registry.host}/app:v1`;
    const result = await runBounded([...args, ref, "--plain-http"], env);
    assert.notEqual(result.code, 0, result.stderr);
    assert.equal(result.signal, null, "killed: the body was read without end");
    assert.match(result.stderr, pattern);
  }
});

Deno.test("a TLS port with an untrusted certificate that also answers plain HTTP: no fallback", async () => {
  await using dir = await tempDir();
  const env = { ...isolatedEnv(dir.path), ARTIFACT_CLI_PASSWORD: "s3cret-pw" };
  const certs = await makeCertificates(dir.path);
  const tls = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(certs.cert),
      key: await Deno.readTextFile(certs.key),
      onListen() {},
    },
    () => new Response("{}"),
  );
  const plainRequests: string[] = [];
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    plainRequests.push(
      `${req.method} ${new URL(req.url).pathname} ${req.headers.has("authorization")}`,
    );
    return req.headers.has("authorization")
      ? new Response("{}", { headers: { "docker-distribution-api-version": "registry/2.0" } })
      : new Response("", { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } });
  });
  // One port, both protocols: a TLS ClientHello (0x16) goes to the TLS server, the rest to plain HTTP.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      connections.push(conn);
      (async () => {
        const first = new Uint8Array(16 * 1024);
        const n = await conn.read(first).catch(() => null);
        if (!n) return conn.close();
        const port = first[0] === 0x16 ? tls.addr.port : plain.addr.port;
        const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
        connections.push(upstream);
        await upstream.write(first.subarray(0, n));
        await Promise.allSettled([
          conn.readable.pipeTo(upstream.writable),
          upstream.readable.pipeTo(conn.writable),
        ]);
      })().catch(() => {});
    }
  })().catch(() => {});
  try {
    const host = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    for (const args of [[], ["-u", "user"]]) {
      const result = await runBounded(["manifest", `${host}/app:v1`, ...args], env);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: cannot verify the TLS certificate of /, result.stderr);
    }
    assert.deepEqual(plainRequests, [], "nothing may go to the plain-HTTP side");
  } finally {
    listener.close();
    for (const c of connections) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await tls.shutdown();
    await plain.shutdown();
  }
});

Deno.test("secrets are scrubbed from registry messages in every form, tabs included", async () => {
  await using dir = await tempDir();
  for (const password of ["pa\tss-word", "p@ss w+rd/ä%", "tab\t\tand\nnewline"]) {
    const forms = [
      password,
      encodeURIComponent(password),
      new URLSearchParams({ p: password }).toString().slice(2),
      btoa(String.fromCharCode(...new TextEncoder().encode(`user:${password}`))),
    ];
    await using registry = fakeRegistry((req) => {
      if (!req.headers.has("authorization")) {
        return new Response("", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="x"' },
        });
      }
      if (new URL(req.url).pathname.startsWith("/v2/app/manifests/")) {
        return Response.json({
          errors: [{ code: "DENIED", message: `echo ${forms.join(" | ")} end` }],
        }, { status: 400 });
      }
      return undefined;
    });
    const env = { ...isolatedEnv(dir.path), ARTIFACT_CLI_PASSWORD: password };
    const result = await runBounded(["manifest", `${registry.host}/app:v1`, "-u", "user"], env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /answered 400 for manifest v1.*: echo .*end/);
    const folded = password.replace(/\s+/g, " ");
    for (const form of [...forms, folded]) {
      assert.ok(!result.stderr.includes(form), `${JSON.stringify(form)} printed: ${result.stderr}`);
    }
  }
});

const HOSTILE = [
  "esc\x1b[2Jclear",
  "new\nline",
  "cr\rreturn",
  "bell\x07",
  "c1\u009b31m",
  "del\x7f",
];
const ESCAPED = [
  "esc\\033[2Jclear",
  "new\\nline",
  "cr\\rreturn",
  "bell\\a",
  "c1\\302\\23331m",
  "del\\177",
];

function assertNoControl(text: string) {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(text.replaceAll("\n", ""), /[\x00-\x1f\x7f-\x9f]/, JSON.stringify(text));
}

Deno.test("untrusted strings in text output have control characters escaped; JSON stays exact", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: "", os: "", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const configDigest = `sha256:${
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", config)))
      .map((b) => b.toString(16).padStart(2, "0")).join("")
  }`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: configDigest,
      size: config.byteLength,
    },
    layers: [],
    annotations: Object.fromEntries(HOSTILE.map((h) => [`k.${h}`, `v.${h}`])),
  });
  await using registry = fakeRegistry((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v2/app/tags/list") return Response.json({ name: "app", tags: HOSTILE });
    if (path.startsWith("/v2/app/manifests/")) {
      return new Response(manifest, {
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      });
    }
    if (path === `/v2/app/blobs/${configDigest}`) return new Response(config);
    if (path.startsWith("/v2/bad/")) {
      return Response.json({ errors: [{ code: "DENIED", message: HOSTILE.join(" ") }] }, {
        status: 400,
      });
    }
    return undefined;
  });
  const tags = await runBounded(["tags", `${registry.host}/app`, "--plain-http"], env);
  assert.equal(tags.code, 0, tags.stderr);
  assertNoControl(tags.stdout);
  assert.deepEqual(
    tags.stdout.trim().split("\n"),
    [...ESCAPED].sort((a, b) => {
      const order = [...HOSTILE].sort();
      return order.indexOf(HOSTILE[ESCAPED.indexOf(a)]) -
        order.indexOf(HOSTILE[ESCAPED.indexOf(b)]);
    }),
  );
  const json = await runBounded([
    "tags",
    `${registry.host}/app`,
    "--plain-http",
    "--format",
    "json",
  ], env);
  assert.deepEqual(JSON.parse(json.stdout).tags, [...HOSTILE].sort());

  const described = await runBounded(["describe", `${registry.host}/app:v1`, "--plain-http"], env);
  assert.equal(described.code, 0, described.stderr);
  assertNoControl(described.stdout);
  for (const e of ESCAPED) assert.ok(described.stdout.includes(`k.${e}: v.${e}`), described.stdout);

  const failed = await runBounded(["manifest", `${registry.host}/bad:v1`, "--plain-http"], env);
  assert.equal(failed.code, 1, failed.stderr);
  assertNoControl(failed.stderr);
  assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);
  assert.ok(failed.stderr.includes("c1\\302\\23331m"), failed.stderr);
});

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return `sha256:${
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
      .map((b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

/** A registry whose one artifact file trickles out a byte every `everyMs`. */
async function tricklingRegistry(everyMs: number) {
  const content = new TextEncoder().encode("x".repeat(400));
  const config = new TextEncoder().encode("{}");
  const [contentDigest, configDigest] = [await sha256(content), await sha256(config)];
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.example.file",
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: configDigest, size: 2 },
    layers: [{
      mediaType: "application/octet-stream",
      digest: contentDigest,
      size: content.byteLength,
      annotations: { "org.opencontainers.image.title": "file.txt" },
    }],
  });
  const timers = new Set<number>();
  return fakeRegistry((req) => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/v2/app/manifests/")) {
      return new Response(manifest, {
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      });
    }
    if (path === `/v2/app/blobs/${configDigest}`) return new Response(config);
    if (path === `/v2/app/blobs/${contentDigest}`) {
      let sent = 0;
      let timer = 0;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          timer = setInterval(() => {
            if (sent >= content.byteLength) return c.close();
            c.enqueue(content.slice(sent, ++sent));
          }, everyMs) as unknown as number;
          timers.add(timer);
        },
        cancel() {
          clearInterval(timer);
        },
      });
      return new Response(body, { headers: { "content-length": String(content.byteLength) } });
    }
    return undefined;
  });
}

Deno.test("a trickling blob fails at the average-rate floor, not after the whole trickle", async () => {
  await using dir = await tempDir();
  await using registry = await tricklingRegistry(200);
  const env = { ...isolatedEnv(dir.path), ARTIFACT_CLI_MIN_RATE: "100/2" };
  const started = Date.now();
  const result = await runBounded(
    ["pull", `${registry.host}/app:v1`, "-o", `${dir.path}/out`, "--plain-http"],
    env,
    40_000,
  );
  assert.equal(result.signal, null, "killed: the trickle kept the pull alive");
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /download too slow: .* under the floor of 100 bytes\/s/);
  assert.ok(Date.now() - started < 20_000);
});

Deno.test("--timeout bounds the whole operation: one line, exit 1; a bad duration is a usage error", async () => {
  await using dir = await tempDir();
  await using registry = await tricklingRegistry(200);
  await Deno.mkdir(`${dir.path}/tmp`);
  const env = { ...isolatedEnv(dir.path), ARTIFACT_CLI_MIN_RATE: "0", TMPDIR: `${dir.path}/tmp` };
  const out = `${dir.path}/out`;
  const result = await runBounded(
    ["pull", `${registry.host}/app:v1`, "-o", out, "--plain-http", "--timeout", "2s"],
    env,
    40_000,
  );
  assert.equal(result.signal, null, "killed: --timeout did not end the pull");
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stderr.trim(), "error: timed out after 2s; temporary files removed");
  // Nothing of the pull is left: no temp output next to `out`, nothing in TMPDIR.
  const left = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  const ours = left.filter((n) => !["cache", "tmp", ".cache"].includes(n));
  assert.deepEqual(ours, [], `left behind: ${ours}`);
  const inTmp = [...Deno.readDirSync(`${dir.path}/tmp`)].map((e) => e.name)
    .filter((n) => !n.startsWith("artifact-cli-") || n.includes("tmp"));
  assert.deepEqual(inTmp, []);
  for (const bad of ["5", "5x", "-1s", "1.5s", "s", "0s", " 5s", "1d"]) {
    const usage = await runBounded(
      ["pull", `${registry.host}/app:v1`, "-o", out, "--plain-http", "--timeout", bad],
      env,
    );
    assert.equal(usage.code, 2, `${bad}: ${usage.stderr}`);
    assert.match(usage.stderr, /--timeout: invalid duration/);
  }
  // -t is the Go artifact-cli's short form.
  const short = await runBounded(
    ["pull", `${registry.host}/app:v1`, "-o", out, "--plain-http", "-t", "5x"],
    env,
  );
  assert.equal(short.code, 2, short.stderr);
  assert.match(short.stderr, /--timeout: invalid duration "5x"/);
});
