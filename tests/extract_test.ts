import assert from "node:assert/strict";
import { join } from "node:path";
import { TreeWriter } from "../src/archive/extract.ts";
import { TarParser } from "../src/archive/tar_reader.ts";
import { UnsafeContentError } from "../src/errors.ts";
import { fileHeader } from "../src/pull/apply_artifact.ts";
import { buildTar, type RawEntry } from "./support/tar_builder.ts";
import { describeTree, tempDir } from "./support/tree.ts";

/** Apply layers (lists of raw entries) to a fresh root; returns warnings. */
function apply(root: string, ...layers: RawEntry[][]): string[] {
  const warnings: string[] = [];
  const writer = new TreeWriter(root, {
    onWarning: (m) => warnings.push(m),
    maxBytes: 1024 * 1024,
  });
  for (const layer of layers) {
    const parser = new TarParser(writer.beginLayer());
    parser.write(buildTar(layer));
    parser.finish();
  }
  writer.finish();
  return warnings;
}

async function freshRoot(dir: string): Promise<string> {
  const root = join(dir, "root");
  await Deno.mkdir(root);
  return root;
}

Deno.test("'..' in a member name is refused and nothing lands outside", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  for (const name of ["../evil.txt", "a/../../evil.txt", "a/.."]) {
    assert.throws(() => apply(root, [{ name, content: "x" }]), UnsafeContentError);
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["root"]);
});

Deno.test("a leading / is stripped, as GNU tar does, with a warning", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  const warnings = apply(root, [{ name: "/etc/abs.txt", content: "x" }]);
  assert.deepEqual(describeTree(root, { modes: false }), ["etc dir", 'etc/abs.txt file "x"']);
  assert.match(warnings.join("\n"), /removing leading "\/"/);
});

Deno.test("a file is never written through a symlinked parent", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  const outside = join(dir.path, "outside");
  await Deno.mkdir(outside);
  assert.throws(
    () =>
      apply(root, [{ name: "link", type: "2", linkname: outside }, {
        name: "link/pwned.txt",
        content: "x",
      }]),
    /link is a symlink/,
  );
  assert.deepEqual([...Deno.readDirSync(outside)], []);
});

Deno.test("a symlink replaced by a file is replaced, not followed", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  const target = join(dir.path, "target.txt");
  await Deno.writeTextFile(target, "original");
  apply(root, [{ name: "f", type: "2", linkname: target }, { name: "f", content: "new" }]);
  assert.equal(await Deno.readTextFile(target), "original");
  assert.deepEqual(describeTree(root, { modes: false }), ['f file "new"']);
});

Deno.test("hard links must point at a regular file extracted earlier", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  assert.throws(
    () => apply(root, [{ name: "h", type: "1", linkname: "/etc/passwd" }]),
    /hard link/,
  );
  assert.throws(() => apply(root, [{ name: "h", type: "1", linkname: "../x" }]), /\.\./);
  const ok = join(dir.path, "ok");
  await Deno.mkdir(ok);
  apply(ok, [{ name: "a.txt", content: "same" }, { name: "b.txt", type: "1", linkname: "a.txt" }]);
  assert.equal(await Deno.readTextFile(join(ok, "b.txt")), "same");
  assert.equal(Deno.statSync(join(ok, "b.txt")).ino, Deno.statSync(join(ok, "a.txt")).ino);
});

Deno.test("devices and FIFOs are skipped and setuid/setgid bits dropped", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  const warnings = apply(root, [
    { name: "null", type: "3" },
    { name: "sda", type: "4" },
    { name: "fifo", type: "6" },
    { name: "suid", content: "x", mode: 0o4755 },
    { name: "sgid-dir", type: "5", mode: 0o2775 },
  ]);
  assert.deepEqual(describeTree(root), ["sgid-dir dir 775", 'suid file 755 "x"']);
  assert.equal(warnings.filter((w) => /skipping/.test(w)).length, 3);
  assert.ok(warnings.some((w) => /setuid\/setgid/.test(w)));
});

Deno.test("content past the size limit is refused", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  assert.throws(
    () => apply(root, [{ name: "big", content: new Uint8Array(2 * 1024 * 1024) }]),
    /size limit/,
  );
});

Deno.test("whiteouts remove lower-layer paths; an opaque dir hides lower children only", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  apply(
    root,
    [
      { name: "keep.txt", content: "k" },
      { name: "gone.txt", content: "g" },
      { name: "dir/", type: "5" },
      { name: "dir/old.txt", content: "o" },
      { name: "tree/", type: "5" },
      { name: "tree/sub/x.txt", content: "x" },
    ],
    [
      { name: ".wh.gone.txt" },
      { name: ".wh.tree" },
      { name: "dir/new.txt", content: "n" },
      { name: "dir/.wh..wh..opq" },
      { name: ".wh.missing" },
    ],
  );
  assert.deepEqual(describeTree(root, { modes: false }), [
    "dir dir",
    'dir/new.txt file "n"',
    'keep.txt file "k"',
  ]);
});

Deno.test("a later entry replaces an earlier one: dir by file and file by dir", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  apply(root, [
    { name: "a/", type: "5" },
    { name: "a/inner.txt", content: "i" },
    { name: "a", content: "now a file" },
    { name: "b", content: "file" },
    { name: "b/", type: "5" },
    { name: "b/c.txt", content: "c" },
  ]);
  assert.deepEqual(describeTree(root, { modes: false }), [
    'a file "now a file"',
    "b dir",
    'b/c.txt file "c"',
  ]);
});

Deno.test("read-only directory modes are applied after their contents are written", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  apply(root, [{ name: "ro/", type: "5", mode: 0o555 }, {
    name: "ro/f.txt",
    content: "f",
    mode: 0o444,
  }]);
  assert.deepEqual(describeTree(root), ["ro dir 555", 'ro/f.txt file 444 "f"']);
  await Deno.chmod(join(root, "ro"), 0o755);
});

Deno.test("file modes are exact whatever the umask, with content in one piece or streamed", async () => {
  await using dir = await tempDir();
  const root = await freshRoot(dir.path);
  const big = "x".repeat(5000);
  const writer = new TreeWriter(root);
  const sink = writer.beginLayer();
  const bytes = new TextEncoder().encode(big);
  // 0o666 and 0o777 lose bits to the usual umask 022; 0o400 is read-only from the start.
  for (const [name, mode] of [["rw-all", 0o666], ["x-all", 0o777], ["ro", 0o400]] as const) {
    sink.entry(fileHeader(`${name}-whole`, bytes.byteLength, mode));
    sink.data(bytes);
    sink.endEntry();
    sink.entry(fileHeader(`${name}-pieces`, bytes.byteLength, mode));
    sink.data(bytes.subarray(0, 1000));
    sink.data(bytes.subarray(1000));
    sink.endEntry();
    sink.entry(fileHeader(`${name}-empty`, 0, mode));
    sink.endEntry();
  }
  writer.finish();
  const lines = describeTree(root).map((line) => line.replace(big, "BIG"));
  assert.deepEqual(lines, [
    'ro-empty file 400 ""',
    'ro-pieces file 400 "BIG"',
    'ro-whole file 400 "BIG"',
    'rw-all-empty file 666 ""',
    'rw-all-pieces file 666 "BIG"',
    'rw-all-whole file 666 "BIG"',
    'x-all-empty file 777 ""',
    'x-all-pieces file 777 "BIG"',
    'x-all-whole file 777 "BIG"',
  ]);
});
