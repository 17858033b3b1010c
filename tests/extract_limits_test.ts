/**
 * Unit-level checks of the extraction bounds that the CLI suite cannot reach
 * cheaply: the entry-count limit, metadata accounting, metadata caps, and
 * whiteouts deeper behind a symlink.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type ExtractOptions, TreeWriter } from "../src/archive/extract.ts";
import type { TarHeader } from "../src/archive/tar_header.ts";
import { TarParser } from "../src/archive/tar_reader.ts";
import { ParseError, UnsafeContentError } from "../src/errors.ts";
import { buildTar, type RawEntry } from "./support/tar_builder.ts";
import { describeTree, tempDir } from "./support/tree.ts";

function extract(root: string, layers: RawEntry[][], options: ExtractOptions = {}): string[] {
  const warnings: string[] = [];
  const writer = new TreeWriter(root, { onWarning: (m) => warnings.push(m), ...options });
  try {
    for (const layer of layers) {
      const parser = new TarParser(writer.beginLayer());
      parser.write(buildTar(layer));
      parser.finish();
    }
    writer.finish();
  } finally {
    writer.abort();
  }
  return warnings;
}

Deno.test("an entry-count bomb is refused at the limit, before the next entry is created", async () => {
  await using dir = await tempDir();
  const entries = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, content: "" }));
  assert.throws(
    () => extract(dir.path, [entries], { maxEntries: 10 }),
    (e) => e instanceof UnsafeContentError && /more than 10 entries/.test(e.message),
  );
  assert.equal([...Deno.readDirSync(dir.path)].length, 10);
});

Deno.test("TarParser reports the header and metadata bytes read for each entry", () => {
  const headers: TarHeader[] = [];
  const parser = new TarParser({ entry: (h) => headers.push(h), data() {}, endEntry() {} });
  parser.write(buildTar([
    { name: "plain", content: "x" },
    { name: "p", pax: { path: "with-pax", comment: "c".repeat(600) }, content: "y" },
  ]));
  parser.finish();
  assert.equal(headers[0].headerBytes, 512);
  // PAX header block + its 2-block body + the entry's own header.
  assert.equal(headers[1].headerBytes, 512 + 1024 + 512);
  assert.ok(parser.ended);
});

Deno.test("tar headers count against the size limit, not only file content", async () => {
  await using dir = await tempDir();
  const empties = Array.from({ length: 40 }, (_, i) => ({ name: `e${i}`, content: "" }));
  // 40 empty files: no content at all, but 40 headers of 512 bytes.
  assert.throws(() => extract(dir.path, [empties], { maxBytes: 10_000 }), /size limit/);
});

Deno.test("global PAX records are capped across the archive, not per header", () => {
  const entries = Array.from({ length: 3 }, (_, i) => ({
    name: `f${i}`,
    globalPax: { comment: "g".repeat(400 * 1024) },
    content: "",
  }));
  const parser = new TarParser({ entry() {}, data() {}, endEntry() {} });
  assert.throws(
    () => parser.write(buildTar(entries)),
    (e) => e instanceof ParseError && /global PAX records exceed the limit/.test(e.message),
  );
});

Deno.test("a whiteout anywhere behind a symlink is ignored with a warning, never followed", async () => {
  await using dir = await tempDir();
  const outside = join(dir.path, "outside");
  await Deno.mkdir(join(outside, "sub"), { recursive: true });
  await Deno.writeTextFile(join(outside, "sub", "keep.txt"), "keep");
  const root = join(dir.path, "root");
  await Deno.mkdir(root);
  const warnings = extract(root, [
    [{ name: "link", type: "2", linkname: outside }],
    [{ name: "link/sub/.wh.keep.txt" }, { name: "link/sub/.wh..wh..opq" }],
  ]);
  assert.equal(await Deno.readTextFile(join(outside, "sub", "keep.txt")), "keep");
  assert.equal(
    warnings.filter((w) => /ignoring whiteout .*its parent is a symlink/.test(w)).length,
    2,
  );
  assert.deepEqual(describeTree(root), [`link symlink -> ${outside}`]);
});

Deno.test("an absolute hard link target is warned about as a link target, not a member name", async () => {
  await using dir = await tempDir();
  const warnings = extract(dir.path, [[
    { name: "a.txt", content: "a" },
    { name: "h", type: "1", linkname: "/a.txt" },
  ]]);
  assert.match(warnings.join("\n"), /removing leading "\/" from hard link targets/);
  assert.equal(await Deno.readTextFile(join(dir.path, "h")), "a");
});
