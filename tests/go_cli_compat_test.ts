import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { goDefaultPlatforms, hostArch, pushGoCliContent } from "./support/go_cli_builder.ts";
import { startRegistry } from "./support/registry.ts";
import { describeTree, tempDir } from "./support/tree.ts";

// Content pushed by the Go educates artifact-cli (byte-exact, see
// tests/support/go_cli_builder.ts) served by the real registry: an index of
// per-platform manifests whose config is `{}` under the image config media
// type. Pull warns once about the config and applies the layer; describe names
// the shape.

const FILES = { "README.md": "# lab\n", "workshop/content/01.md": "one\n" };
const TREE = [
  'README.md file "# lab\\n"',
  "workshop dir",
  "workshop/content dir",
  'workshop/content/01.md file "one\\n"',
];

Deno.test("Go artifact-cli content pulls: host architecture entry, one warning about the {} config", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const pushed = await pushGoCliContent(registry, "go/lab", "8.3", FILES);
  assert.deepEqual([...pushed.manifests.keys()], goDefaultPlatforms(hostArch()));
  const out = join(dir.path, "out");
  const result = await runCli(
    ["pull", `${registry.host}/go/lab:8.3`, "-o", out, "--format", "json"],
    { env },
  );
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.equal(json.digest, pushed.indexDigest);
  assert.equal(json.format, "artifact-cli-go");
  assert.deepEqual(json.platform, { os: "linux", architecture: hostArch() });
  assert.equal(json.manifest.digest, pushed.manifests.get(`linux/${hostArch()}`)!.digest);
  assert.equal(result.stderr.match(/not a valid image config/g)?.length, 1, result.stderr);
  assert.deepEqual(describeTree(out, { modes: false }), TREE);

  // --platform takes the other entry.
  const other = hostArch() === "amd64" ? "arm64" : "amd64";
  const arm = await runCli(
    ["pull", `${registry.host}/go/lab:8.3`, "-o", out, "-p", `linux/${other}`, "--format", "json"],
    { env },
  );
  assert.equal(arm.code, 0, arm.stderr);
  assert.equal(
    JSON.parse(arm.stdout).manifest.digest,
    pushed.manifests.get(`linux/${other}`)!.digest,
  );
  assert.deepEqual(describeTree(out, { modes: false }), TREE);
});

Deno.test("describe names the Go artifact-cli shape with its evidence", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  await pushGoCliContent(registry, "go/lab", "v1", FILES);
  const result = await runCli(
    ["describe", `${registry.host}/go/lab:v1`, "--format", "json"],
    { env },
  );
  assert.equal(result.code, 0, result.stderr);
  const d = JSON.parse(result.stdout);
  assert.equal(d.kind, "artifact-cli-go-index");
  assert.equal(d.format, "artifact-cli (Go) multi-platform push");
  assert.match(d.evidence.join("\n"), /org\.opencontainers\.image\.title: artifact-cli artifact/);
  assert.equal(d.selected.platform, `linux/${hostArch()}`);
  assert.equal(d.manifest.kind, "artifact-cli-go");
  assert.equal(d.manifest.format, "artifact-cli (Go) push");
  assert.match(d.manifest.evidence.join("\n"), /config "\{\}" under .*: not an image config/);
  assert.match(d.manifest.configWarning, /not a valid image config/);
  assert.deepEqual(d.manifest.layers.map((l: { action: string }) => l.action), ["tar"]);
  const text = await runCli(["describe", `${registry.host}/go/lab:v1`], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Format: +artifact-cli \(Go\) multi-platform push/);
});

Deno.test("every kind of invalid image config still lets the files be pulled, with one warning", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const configs = [
    "{}",
    '{"architecture":"amd64","os":"linux"}',
    '{"rootfs":{"type":"layers"}}',
    '{"rootfs":{"type":"layers","diff_ids":["not-a-digest"]}}',
    '{"rootfs":{"type":"snapshot","diff_ids":[]}}',
    "[]",
    "not json at all",
  ];
  for (const [i, config] of configs.entries()) {
    await pushGoCliContent(registry, `go/c${i}`, "v1", FILES, {
      config,
      platforms: [`linux/${hostArch()}`],
    });
    const out = join(dir.path, `out${i}`);
    const result = await runCli(["pull", `${registry.host}/go/c${i}:v1`, "-o", out], { env });
    assert.equal(result.code, 0, `${config}: ${result.stderr}`);
    assert.equal(result.stderr.match(/not a valid image config/g)?.length, 1, result.stderr);
    assert.deepEqual(describeTree(out, { modes: false }), TREE);
  }
});

Deno.test("strictness stays on structure: a Go-shaped manifest with a wrong layer size fails", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const pushed = await pushGoCliContent(registry, "go/bad", "v1", FILES, {
    platforms: [`linux/${hostArch()}`],
  });
  const [{ bytes }] = [...pushed.manifests.values()];
  const broken = new TextDecoder().decode(bytes).replace(
    `"size":${pushed.layer.byteLength}`,
    `"size":${pushed.layer.byteLength + 1}`,
  );
  const put = await fetch(`${registry.url}/v2/go/bad/manifests/broken`, {
    method: "PUT",
    body: broken,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  await put.body?.cancel();
  assert.equal(put.status, 201);
  const out = join(dir.path, "out");
  const result = await runCli(["pull", `${registry.host}/go/bad:broken`, "-o", out], { env });
  assert.notEqual(result.code, 0);
  assert.equal(result.code, 5, result.stderr);
});
