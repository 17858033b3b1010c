/**
 * Real Docker buildx 0.10.5 / BuildKit 0.11.6 pushes (with provenance
 * attestations), served byte for byte by the real registry: detected as
 * buildx, the host's (or -p) platform pulled into the exact build context,
 * attestations never chosen, copies keep every digest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { serveDigestFixture } from "./support/serve_fixtures.ts";
import { describeTree, tempDir } from "./support/tree.ts";

/** The build context, as the recorded `tar tvzf` of the shared layer lists it. */
const CONTEXT = [
  "data.json file 644",
  "empty.txt file 644",
  "hello.txt file 644",
  "link-to-hello symlink -> hello.txt",
  "run.sh file 755",
  "sub dir 755",
  "sub/deeper dir 755",
  "sub/deeper/deep.txt file 644",
  "sub/nested.txt file 644",
];

/** describeTree lines without file contents, for comparing with a listing. */
async function shape(dir: string): Promise<string[]> {
  return (await describeTree(dir)).map((line) => line.replace(/ ".*"$/, ""));
}

Deno.test("a real buildx multi-platform push with attestations: describe, pull each platform, never an attestation", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const root = await serveDigestFixture(registry, "buildx-index", "peer/buildx");
  const ref = `${registry.host}/peer/buildx:v1`;
  const env = isolatedEnv(dir.path, { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64" });

  const described = await runCli(["describe", ref, "--format", "json"], { env });
  assert.equal(described.code, 0, described.stderr);
  const d = JSON.parse(described.stdout);
  assert.equal(d.digest, root);
  assert.equal(d.kind, "buildx-index");
  assert.equal(d.platforms.length, 4);
  assert.equal(d.platforms.filter((p: { attestation: boolean }) => p.attestation).length, 2);

  const images: Record<string, string> = {};
  for (const platform of ["linux/amd64", "linux/arm64"]) {
    const out = join(dir.path, platform.replace("/", "-"));
    const pull = await runCli(["pull", ref, "-o", out, "-p", platform, "--format", "json"], {
      env,
    });
    assert.equal(pull.code, 0, pull.stderr);
    const result = JSON.parse(pull.stdout);
    assert.equal(result.platform.architecture, platform.split("/")[1]);
    images[platform] = result.manifest.digest;
    assert.deepEqual(await shape(out), CONTEXT);
    assert.equal(await Deno.readTextFile(join(out, "sub", "deeper", "deep.txt")), "deep\n");
  }
  const attestations = d.platforms.filter((p: { attestation: boolean }) => p.attestation)
    .map((p: { digest: string }) => p.digest);
  for (const digest of Object.values(images)) assert.ok(!attestations.includes(digest));

  // Without -p: the host's platform (here set to linux/amd64).
  const host = await runCli(["pull", ref, "-o", join(dir.path, "host"), "--format", "json"], {
    env,
  });
  assert.equal(host.code, 0, host.stderr);
  assert.equal(JSON.parse(host.stdout).manifest.digest, images["linux/amd64"]);

  // A copy into a layout keeps the index digest and lists only it.
  const copy = await runCli(
    ["copy", ref, `oci:${join(dir.path, "airgap")}:v1`, "--format", "json"],
    { env },
  );
  assert.equal(copy.code, 0, copy.stderr);
  assert.equal(JSON.parse(copy.stdout).digest, root);
  const index = JSON.parse(await Deno.readTextFile(join(dir.path, "airgap", "index.json")));
  assert.deepEqual(index.manifests.map((m: { digest: string }) => m.digest), [root]);
});

Deno.test("a real buildx single-platform push is an index with an attestation: pulls on its platform, not found elsewhere", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const root = await serveDigestFixture(registry, "buildx-single", "peer/buildx-single");
  const ref = `${registry.host}/peer/buildx-single:v1`;
  const amd = isolatedEnv(dir.path, { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64" });
  const described = await runCli(["describe", ref, "--format", "json"], { env: amd });
  assert.equal(described.code, 0, described.stderr);
  assert.equal(JSON.parse(described.stdout).kind, "buildx-index");
  assert.equal(JSON.parse(described.stdout).digest, root);
  const pull = await runCli(["pull", ref, "-o", join(dir.path, "out")], { env: amd });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(await shape(join(dir.path, "out")), CONTEXT);
  const arm = isolatedEnv(dir.path, { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/arm64" });
  const missing = await runCli(["pull", ref, "-o", join(dir.path, "arm")], { env: arm });
  assert.equal(missing.code, 3, missing.stderr);
  assert.match(
    missing.stderr,
    /available: linux\/amd64 \(and 1 attestation manifest, never pulled\)/,
  );
});
