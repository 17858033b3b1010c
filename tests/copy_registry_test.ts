import assert from "node:assert/strict";
import { join } from "node:path";
import { MANIFEST_ACCEPT } from "../src/oci/media_types.ts";
import { runCli, runTool } from "./support/cli.ts";
import { buildxLayout } from "./support/layouts.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";

Deno.test("copy of a buildx index with attestations registry -> layout -> another repo keeps every digest", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  const source = join(dir.path, "buildx");
  const { index, images, attestations } = await buildxLayout(source, [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ], { attestations: true, tag: "v1" });
  const hops: [string, string][] = [
    [`oci:${source}:v1`, `${registry.host}/team/first:v1`],
    [`${registry.host}/team/first:v1`, `oci:${join(dir.path, "airgap")}:v1`],
    [`oci:${join(dir.path, "airgap")}:v1`, `${registry.host}/team/second:v2`],
  ];
  for (const [from, to] of hops) {
    const result = await runCli(["copy", from, to, "--format", "json"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).digest, index.digest, `${from} -> ${to}`);
  }
  // The layout lists only the copied top-level reference; its children are blobs (as skopeo and oras write it).
  const airgap = JSON.parse(await Deno.readTextFile(join(dir.path, "airgap", "index.json")));
  assert.deepEqual(
    airgap.manifests.map((m: { digest: string; annotations?: Record<string, string> }) => [
      m.digest,
      m.annotations?.["org.opencontainers.image.ref.name"],
    ]),
    [[index.digest, "v1"]],
  );
  // Every manifest (images and attestations) and every blob is in the last repository, byte for byte.
  const raw = await runTool("skopeo", [
    "inspect",
    "--raw",
    "--tls-verify=false",
    `docker://${registry.host}/team/second:v2`,
  ]);
  assert.deepEqual(
    new TextEncoder().encode(raw.stdout),
    await Deno.readFile(join(source, "blobs", "sha256", index.digest.slice(7))),
  );
  for (const manifest of [...images, ...attestations]) {
    // Distribution answers 404 for OCI manifests unless the client accepts their type.
    const head = await fetch(`${registry.url}/v2/team/second/manifests/${manifest.digest}`, {
      method: "HEAD",
      headers: { Accept: MANIFEST_ACCEPT },
    });
    assert.equal(head.status, 200, manifest.digest);
  }
  for (const blob of Deno.readDirSync(join(source, "blobs", "sha256"))) {
    const digest = `sha256:${blob.name}`;
    const kind = [index, ...images, ...attestations].some((m) => m.digest === digest)
      ? "manifests"
      : "blobs";
    const head = await fetch(`${registry.url}/v2/team/second/${kind}/${digest}`, {
      method: "HEAD",
      headers: { Accept: MANIFEST_ACCEPT },
    });
    assert.equal(head.status, 200, `${kind} ${digest}`);
  }
  // The copy pulls like the original.
  const pull = await runCli(
    [
      "pull",
      `${registry.host}/team/second:v2`,
      "-o",
      join(dir.path, "out"),
      "--platform",
      "linux/arm64",
    ],
    { env },
  );
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(await Deno.readTextFile(join(dir.path, "out", "arch.txt")), "arm64\n");
});

Deno.test("sync pulls from a registry and pins its digest", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  await Deno.mkdir(join(dir.path, "src", "workshop"), { recursive: true });
  await Deno.writeTextFile(join(dir.path, "src", "workshop", "README.md"), "# workshop\n");
  const push = await runCli([
    "push",
    `${registry.host}/w/files:v1`,
    join(dir.path, "src"),
    "--format",
    "json",
  ], { env });
  assert.equal(push.code, 0, push.stderr);
  await Deno.writeTextFile(
    join(dir.path, "sync.yml"),
    `artifacts:\n  - image: ${registry.host}/w/files:v1\n    path: content\n    newRootPath: workshop\n`,
  );
  const sync = await runCli(["sync", "-c", "sync.yml", "--lock-file", "sync.lock"], {
    env,
    cwd: dir.path,
  });
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal(await Deno.readTextFile(join(dir.path, "content", "README.md")), "# workshop\n");
  assert.match(
    await Deno.readTextFile(join(dir.path, "sync.lock")),
    new RegExp(JSON.parse(push.stdout).digest),
  );
});
