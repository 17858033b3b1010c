/**
 * Structural limits on untrusted content, through the CLI with hand-built
 * layouts: manifests over 4 MiB, indexes nested too deep, too many layers
 * or index entries. Each is a clear one-line error, and the output
 * directory is left as it was.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { LIMITS } from "../src/oci/limits.ts";
import { runCli } from "./support/cli.ts";
import { MT, type RawDescriptor, RawLayout } from "./support/layout_builder.ts";
import { buildTarGz } from "./support/tar_builder.ts";
import { describeTree, tempDir } from "./support/tree.ts";

interface Scene {
  layout: RawLayout;
  out: string;
  before: string[];
  pull(args?: string[]): Promise<{ code: number; stderr: string }>;
}

async function scene(dir: string): Promise<Scene> {
  const layout = await RawLayout.create(join(dir, "store"));
  const out = join(dir, "out");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "previous.txt"), "kept\n");
  return {
    layout,
    out,
    before: describeTree(out),
    pull: (args = []) => runCli(["pull", `oci:${layout.root}:v1`, "-o", out, "--force", ...args]),
  };
}

/** The pull failed with exactly one error line matching `pattern`, output untouched. */
function assertRefused(
  s: Scene,
  result: { code: number; stderr: string },
  code: number,
  pattern: RegExp,
) {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, pattern);
  assert.deepEqual(describeTree(s.out), s.before);
}

async function oneLayer(layout: RawLayout): Promise<RawDescriptor> {
  return await layout.addBlob(buildTarGz([{ name: "a.txt", content: "a" }]), MT.layerGzip);
}

Deno.test("a manifest over 4 MiB is refused before it is read", async () => {
  await using dir = await tempDir();
  const s = await scene(dir.path);
  const layer = await oneLayer(s.layout);
  const big = await s.layout.addManifest([layer], {
    annotations: { padding: "x".repeat(LIMITS.manifestBytes) },
  });
  assert.ok(big.size > LIMITS.manifestBytes);
  await s.layout.setIndex([{ ...big, tag: "v1" }]);
  assertRefused(s, await s.pull(), 1, /over the 4194304-byte limit/);
});

Deno.test("a manifest over 4 MiB whose descriptor claims it is small fails as soon as it overflows", async () => {
  await using dir = await tempDir();
  const s = await scene(dir.path);
  const layer = await oneLayer(s.layout);
  const big = await s.layout.addManifest([layer], {
    annotations: { padding: "x".repeat(LIMITS.manifestBytes) },
  });
  await s.layout.setIndex([{ ...big, size: 1000, tag: "v1" }]);
  assertRefused(s, await s.pull(), 5, /more than the expected 1000 bytes/);
});

/** `levels` indexes, each holding the next, the innermost holding an image. */
async function nestedIndexes(layout: RawLayout, levels: number): Promise<RawDescriptor> {
  let desc = await layout.addManifest([await oneLayer(layout)]);
  for (let i = 0; i < levels; i++) {
    desc = await layout.addIndex([{ ...desc, platform: { os: "linux", architecture: "amd64" } }]);
  }
  return desc;
}

Deno.test(`indexes nested ${LIMITS.indexDepth} deep are followed, one more level is refused`, async () => {
  await using dir = await tempDir();
  const s = await scene(dir.path);
  const ok = await nestedIndexes(s.layout, LIMITS.indexDepth);
  await s.layout.setIndex([{ ...ok, tag: "v1" }]);
  const pulled = await s.pull(["--platform", "linux/amd64"]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(describeTree(s.out, { modes: false }), ['a.txt file "a"']);

  await Deno.writeTextFile(join(s.out, "a.txt"), "changed\n");
  const before = describeTree(s.out);
  const deep = await nestedIndexes(s.layout, LIMITS.indexDepth + 1);
  await s.layout.setIndex([{ ...deep, tag: "v1" }]);
  const refused = await s.pull(["--platform", "linux/amd64"]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^error: indexes nested deeper than 4 levels \(the limit\)/);
  assert.deepEqual(describeTree(s.out), before);
});

Deno.test(`a manifest with more than ${LIMITS.layers} layers is refused`, async () => {
  await using dir = await tempDir();
  const s = await scene(dir.path);
  const layer = await oneLayer(s.layout);
  const many = await s.layout.addManifest(Array(LIMITS.layers + 1).fill(layer));
  await s.layout.setIndex([{ ...many, tag: "v1" }]);
  assertRefused(s, await s.pull(), 1, /layers: 4097 layers exceed the limit of 4096/);
});

Deno.test(`an index with more than ${LIMITS.indexEntries} entries is refused`, async () => {
  await using dir = await tempDir();
  const s = await scene(dir.path);
  const manifest = await s.layout.addManifest([await oneLayer(s.layout)]);
  const entry = { ...manifest, platform: { os: "linux", architecture: "amd64" } };
  const index = await s.layout.addIndex(Array(LIMITS.indexEntries + 1).fill(entry));
  await s.layout.setIndex([{ ...index, tag: "v1" }]);
  assertRefused(s, await s.pull(), 1, /manifests: 4097 entries exceed the limit of 4096/);
});
