import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

Deno.test("a TLS registry with an unknown CA: a clear error naming --ca-file, and --insecure round-trips", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true });
  const env = isolatedEnv(dir.path);
  const src = await makeSampleTree(join(dir.path, "src"));
  const port = registry.host.split(":")[1];

  // Loopback hosts fall back to plain HTTP only when the port does not speak TLS;
  // an untrusted certificate is reported as such, not as "answered 400".
  for (const host of [registry.host, `localhost:${port}`]) {
    const refused = await runCli(["push", `${host}/tls/app:v1`, src], { env });
    assert.equal(refused.code, 1, refused.stderr);
    const errors = refused.stderr.trim().split("\n");
    assert.equal(errors.length, 1, refused.stderr);
    assert.match(
      errors[0],
      /^error: cannot verify the TLS certificate of [^ ]+: invalid peer certificate: UnknownIssuer \(trust its CA with --ca-file FILE, or skip verification with --insecure\)$/,
    );
  }

  const ref = `${registry.host}/tls/app:v1`;
  const push = await runCli(["push", ref, src, "--insecure"], { env });
  assert.equal(push.code, 0, push.stderr);
  const out = join(dir.path, "out");
  const pull = await runCli(["pull", ref, "-o", out, "--insecure", "--debug"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out), describeTree(src));
  // It really went over TLS (no silent plain-HTTP fallback).
  assert.match(
    pull.stderr,
    /debug: GET https:\/\/127\.0\.0\.1:\d+\/v2\/tls\/app\/manifests\/v1 -> 200/,
  );

  const both = await runCli(["pull", ref, "-o", out, "--insecure", "--plain-http"], { env });
  assert.equal(both.code, 2, both.stderr);
});
