/**
 * Hostile OCI layouts: every file of a layout is lstat-ed before it is read
 * (a FIFO, a device, a socket or a link is refused, never opened) and bounded
 * before it is read; unknown layout versions are refused; a linked blobs
 * directory is never written through; a large index.json (100,000 tags) is
 * still a normal layout.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The CLI under `timeout`, so a hang (the bug) fails the test instead of blocking it. */
async function cli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const out = await new Deno.Command("timeout", {
    args: ["-s", "KILL", "30", Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

async function layoutWithTree(dir: string) {
  const src = join(dir, "src");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "a.txt"), "a\n");
  const store = join(dir, "store");
  const layout = await OciLayout.open(store, { create: true });
  const pushed = await pushTree(layout, { inputs: [src], tag: "v1" });
  return { store, layout, pushed, src };
}

async function mkfifo(path: string) {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(r.code, 0);
}

type Replace = (path: string) => Promise<void>;
const replacements: [string, Replace][] = [
  ["a symlink to /dev/zero", (p) => Deno.symlink("/dev/zero", p)],
  ["a FIFO", mkfifo],
  ["a symlink to a FIFO", async (p) => {
    await mkfifo(`${p}.fifo`);
    await Deno.symlink(`${p}.fifo`, p);
  }],
  ["a directory", (p) => Deno.mkdir(p)],
  ["a symlink to /etc/passwd", (p) => Deno.symlink("/etc/passwd", p)],
];

for (const file of ["index.json", "oci-layout", "the layer blob", "the manifest blob"]) {
  for (const [what, replace] of replacements) {
    Deno.test(`a layout whose ${file} is ${what} is refused in one line without reading it`, async () => {
      await using tmp = await tempDir();
      const { store, layout, pushed } = await layoutWithTree(tmp.path);
      const path = file === "index.json"
        ? join(store, "index.json")
        : file === "oci-layout"
        ? join(store, "oci-layout")
        : file === "the layer blob"
        ? layout.blobPath(pushed.layers[0].digest)
        : layout.blobPath(pushed.descriptor.digest);
      await Deno.remove(path);
      await replace(path);
      const out = join(tmp.path, "out");
      const result = await cli(["pull", `oci:${store}:v1`, "-o", out]);
      assert.notEqual(result.code, 0, result.stderr);
      assert.notEqual(result.code, 137, "the pull hung and was killed");
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, /symbolic link|FIFO|directory|not found|does not exist/);
      await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
    });
  }
}

Deno.test("an index.json over its 64 MiB bound is refused before it is read", async () => {
  await using tmp = await tempDir();
  const { store } = await layoutWithTree(tmp.path);
  const index = await Deno.open(join(store, "index.json"), { write: true });
  await index.truncate(65 * 1024 * 1024); // sparse: no 65 MiB written
  index.close();
  const result = await cli(["tags", `oci:${store}`]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /over the limit of 67108864/);
});

Deno.test("an oci-layout with an unknown imageLayoutVersion is refused", async () => {
  for (const version of ["2.0.0", "0.9", "", "1.0.0-evil\n"]) {
    await using tmp = await tempDir();
    const { store } = await layoutWithTree(tmp.path);
    await Deno.writeTextFile(
      join(store, "oci-layout"),
      JSON.stringify({ imageLayoutVersion: version }),
    );
    const result = await cli(["pull", `oci:${store}:v1`, "-o", join(tmp.path, "out")]);
    assert.equal(result.code, 1, `${version}: ${result.stderr}`);
    assert.match(result.stderr, /unsupported imageLayoutVersion/);
  }
});

Deno.test("a layout whose blobs/sha256 or blobs is a symlink is refused for writing; nothing lands at the link's target", async () => {
  for (const linked of ["blobs/sha256", "blobs"]) {
    await using tmp = await tempDir();
    const { store, src } = await layoutWithTree(tmp.path);
    const elsewhere = join(tmp.path, "elsewhere");
    await Deno.mkdir(elsewhere);
    if (linked === "blobs") await Deno.mkdir(join(elsewhere, "sha256"));
    await Deno.remove(join(store, linked), { recursive: true });
    await Deno.symlink(linked === "blobs" ? elsewhere : elsewhere, join(store, linked));
    const before = describeTree(elsewhere);
    await Deno.writeTextFile(join(src, "b.txt"), "new content\n");
    const result = await cli(["push", `oci:${store}:v2`, src]);
    assert.equal(result.code, 2, `${linked}: ${result.stderr}`);
    assert.match(result.stderr, /symbolic link; refusing to write blobs through it/);
    assert.deepEqual(describeTree(elsewhere), before, linked);
  }
});

Deno.test("an index.json with 100,000 tags (about 20 MiB) is a normal layout", async () => {
  await using tmp = await tempDir();
  const { store, pushed } = await layoutWithTree(tmp.path);
  const entry = (tag: string) => ({
    mediaType: pushed.descriptor.mediaType,
    digest: pushed.descriptor.digest,
    size: pushed.descriptor.size,
    annotations: { "org.opencontainers.image.ref.name": tag },
  });
  const manifests = Array.from({ length: 100_000 }, (_, i) => entry(`t${i}`));
  manifests.push(entry("v1"));
  await Deno.writeTextFile(
    join(store, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests,
    }),
  );
  assert.ok((await Deno.stat(join(store, "index.json"))).size > 4 * 1024 * 1024);
  const out = join(tmp.path, "out");
  const result = await cli(["pull", `oci:${store}:t99999`, "-o", out]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "a\n");
  const tags = await cli(["tags", `oci:${store}`]);
  assert.equal(tags.code, 0, tags.stderr);
  assert.equal(tags.stdout.trim().split("\n").length, 100_001);
});
