/**
 * Integrity through an OCI layout: content that does not match what
 * addresses it — a blob with other bytes, a truncated or padded blob, a
 * manifest whose bytes do not match index.json, sizes that lie either way —
 * fails the pull with exit code 5 and one error line, and the output
 * directory (holding an earlier pull) is left exactly as it was, with no
 * temporary directories next to it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { MT, type RawDescriptor, RawLayout, sha256 } from "./support/layout_builder.ts";
import { buildTarGz } from "./support/tar_builder.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const enc = new TextEncoder();

interface Built {
  layout: RawLayout;
  layer: RawDescriptor;
  layerBytes: Uint8Array;
  manifest: RawDescriptor;
}

/** A layout with one image (a few files in one gzip layer), tagged v1. */
async function build(dir: string): Promise<Built> {
  const layout = await RawLayout.create(join(dir, "store"));
  const layerBytes = buildTarGz([
    { name: "a.txt", content: "a".repeat(5000) },
    { name: "b/c.txt", content: "c" },
  ]);
  const layer = await layout.addBlob(layerBytes, MT.layerGzip);
  const manifest = await layout.addManifest([layer]);
  await layout.setIndex([{ ...manifest, tag: "v1" }]);
  return { layout, layer, layerBytes, manifest };
}

type Corruption = (b: Built) => Promise<void>;

/**
 * Change the manifest's bytes but not its length or validity (the last hex
 * digit of the config digest): a parsable manifest only the digest can expose.
 */
async function retouchManifest(b: Built): Promise<void> {
  const path = b.layout.blobPath(b.manifest.digest);
  const text = await Deno.readTextFile(path);
  const at = text.indexOf('"digest":"sha256:') + '"digest":"sha256:'.length + 63;
  const changed = text.slice(0, at) + (text[at] === "0" ? "1" : "0") + text.slice(at + 1);
  assert.equal(changed.length, text.length);
  await Deno.writeTextFile(path, changed);
}

const CASES: [string, Corruption, RegExp][] = [
  ["a layer blob with other bytes of the same size", async (b) => {
    const bytes = new Uint8Array(b.layerBytes);
    bytes[bytes.length - 12] ^= 0x55;
    await Deno.writeFile(b.layout.blobPath(b.layer.digest), bytes);
  }, /digest mismatch|corrupt gzip data/],
  ["a truncated layer blob", async (b) => {
    await Deno.writeFile(b.layout.blobPath(b.layer.digest), b.layerBytes.subarray(0, 40));
  }, /expected \d+ bytes, got 40 \(truncated\)|corrupt gzip data|truncated/],
  ["a layer blob with bytes appended", async (b) => {
    await Deno.writeFile(
      b.layout.blobPath(b.layer.digest),
      new Uint8Array([...b.layerBytes, ...enc.encode("extra")]),
    );
  }, /more than the expected \d+ bytes/],
  ["a manifest whose bytes do not match the digest in index.json", async (b) => {
    await retouchManifest(b);
  }, /digest mismatch/],
  ["index.json claiming the manifest is bigger than it is", async (b) => {
    await b.layout.setIndex([{ ...b.manifest, size: b.manifest.size + 10, tag: "v1" }]);
  }, /expected \d+ bytes, got \d+ \(truncated\)/],
  ["index.json claiming the manifest is smaller than it is", async (b) => {
    await b.layout.setIndex([{ ...b.manifest, size: b.manifest.size - 10, tag: "v1" }]);
  }, /more than the expected \d+ bytes/],
  ["a manifest claiming the layer is bigger than it is", async (b) => {
    const m = await b.layout.addManifest([{ ...b.layer, size: b.layer.size + 100 }]);
    await b.layout.setIndex([{ ...m, tag: "v1" }]);
  }, /expected \d+ bytes, got \d+ \(truncated\)/],
  ["a manifest claiming the layer is smaller than it is", async (b) => {
    const m = await b.layout.addManifest([{ ...b.layer, size: b.layer.size - 100 }]);
    await b.layout.setIndex([{ ...m, tag: "v1" }]);
  }, /more than the expected \d+ bytes/],
  ["an index entry pointing at a manifest with other bytes", async (b) => {
    const platform = { os: "linux", architecture: "amd64" };
    const index = await b.layout.addIndex([{ ...b.manifest, platform }]);
    await b.layout.setIndex([{ ...index, tag: "v1" }]);
    await retouchManifest(b);
  }, /digest mismatch/],
];

for (const [name, corrupt, message] of CASES) {
  Deno.test(`integrity through a layout: ${name} fails with exit 5, output untouched`, async () => {
    await using dir = await tempDir();
    const built = await build(dir.path);
    const out = join(dir.path, "out");
    const first = await runCli(["pull", `oci:${built.layout.root}:v1`, "-o", out]);
    assert.equal(first.code, 0, first.stderr);
    await Deno.writeTextFile(join(out, "local-change.txt"), "mine\n");
    const before = describeTree(out);

    await corrupt(built);
    const result = await runCli([
      "pull",
      `oci:${built.layout.root}:v1`,
      "-o",
      out,
      "--platform",
      "linux/amd64",
    ]);
    assert.equal(result.code, 5, result.stderr);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, message);
    assert.deepEqual(describeTree(out), before);
    const strays = [...Deno.readDirSync(dir.path)].map((e) => e.name)
      .filter((n) => n.includes("artifact-cli"));
    assert.deepEqual(strays, []);
  });
}

Deno.test("a missing blob is 'not found' (exit 3), not an integrity failure, output untouched", async () => {
  await using dir = await tempDir();
  const built = await build(dir.path);
  await Deno.remove(built.layout.blobPath(built.layer.digest));
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  const result = await runCli(["pull", `oci:${built.layout.root}:v1`, "-o", out]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, new RegExp(`blob ${built.layer.digest} not found`));
  assert.deepEqual(describeTree(out), []);
});

Deno.test("the digest check covers the whole blob: a valid tar with a wrong digest is still refused", async () => {
  await using dir = await tempDir();
  const built = await build(dir.path);
  const other = sha256(enc.encode("not these bytes"));
  await Deno.rename(built.layout.blobPath(built.layer.digest), built.layout.blobPath(other));
  const m = await built.layout.addManifest([{ ...built.layer, digest: other }]);
  await built.layout.setIndex([{ ...m, tag: "v1" }]);
  const out = join(dir.path, "out");
  const result = await runCli(["pull", `oci:${built.layout.root}:v1`, "-o", out]);
  assert.equal(result.code, 5, result.stderr);
  assert.match(result.stderr, /digest mismatch/);
  await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
});
