import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { ParseError } from "../src/errors.ts";
import { BLOCK, decodeHeader, encodeHeader } from "../src/archive/tar_header.ts";
import { TarParser, type TarSink } from "../src/archive/tar_reader.ts";
import type { TarHeader } from "../src/archive/tar_header.ts";
import { packTar } from "../src/archive/tar_pack.ts";
import { collectTree } from "../src/archive/walk.ts";
import { readAll } from "../src/target.ts";
import { runTool } from "./support/cli.ts";
import { fixture } from "./support/fixtures.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

interface Parsed {
  header: TarHeader;
  body: string;
}

function parseAll(bytes: Uint8Array, chunkSize = bytes.byteLength): Parsed[] {
  const entries: Parsed[] = [];
  let body: number[] = [];
  const sink: TarSink = {
    entry: (header) => {
      entries.push({ header, body: "" });
      body = [];
    },
    data: (chunk) => body.push(...chunk),
    endEntry: () =>
      entries[entries.length - 1].body = new TextDecoder().decode(new Uint8Array(body)),
  };
  const parser = new TarParser(sink);
  for (let i = 0; i < bytes.byteLength; i += chunkSize) {
    parser.write(bytes.subarray(i, i + chunkSize));
  }
  parser.finish();
  return entries;
}

async function packDir(dir: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of packTar(collectTree([dir]))) chunks.push(chunk);
  return await readAll(ReadableStream.from(chunks));
}

Deno.test("a USTAR header encodes and decodes to the same fields with zero owner and time", () => {
  const block = encodeHeader({ name: "dir/file.txt", type: "file", mode: 0o755, size: 1234 });
  assert.equal(block.byteLength, BLOCK);
  const h = decodeHeader(block);
  assert.equal(h.name, "dir/file.txt");
  assert.equal(h.type, "file");
  assert.equal(h.mode, 0o755);
  assert.equal(h.size, 1234);
  assert.equal(h.uid, 0);
  assert.equal(h.gid, 0);
  assert.equal(h.mtime, 0);
  assert.equal(h.uname, "");
  assert.equal(h.format, "ustar");
});

Deno.test("names up to 256 bytes use the USTAR prefix; longer ones get a PAX record", () => {
  const medium = `${"d".repeat(120)}/${"f".repeat(90)}`;
  assert.equal(
    encodeHeader({ name: medium, type: "file", mode: 0o644, size: 0 }).byteLength,
    BLOCK,
  );
  assert.equal(
    parseAll(withEnd(encodeHeader({ name: medium, type: "file", mode: 0o644, size: 0 })))[0].header
      .name,
    medium,
  );
  const long = `${"a".repeat(200)}/${"b".repeat(200)}/ü.txt`;
  const blocks = encodeHeader({
    name: long,
    type: "symlink",
    mode: 0o777,
    size: 0,
    linkname: "t".repeat(150),
  });
  assert.ok(blocks.byteLength > BLOCK);
  const [entry] = parseAll(withEnd(blocks));
  assert.equal(entry.header.name, long);
  assert.equal(entry.header.linkname, "t".repeat(150));
  assert.equal(entry.header.type, "symlink");
});

function withEnd(headers: Uint8Array): Uint8Array {
  const out = new Uint8Array(headers.byteLength + 2 * BLOCK);
  out.set(headers);
  return out;
}

Deno.test("a corrupted header checksum is refused", () => {
  const block = encodeHeader({ name: "a", type: "file", mode: 0o644, size: 0 });
  block[0] = "b".charCodeAt(0);
  assert.throws(() => decodeHeader(block), ParseError);
  assert.throws(() => parseAll(withEnd(block)), /checksum/);
});

Deno.test("an archive cut inside an entry is reported as truncated", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "big.txt"), "x".repeat(3000));
  const tar = await packDir(dir.path);
  assert.throws(() => parseAll(tar.subarray(0, 1500)), /truncated/);
});

Deno.test("the parser gives the same entries whatever the chunking", async () => {
  await using dir = await tempDir();
  await makeSampleTree(dir.path);
  const tar = await packDir(dir.path);
  const whole = parseAll(tar);
  for (const size of [1, 7, 511, 512, 513, 4096]) assert.deepEqual(parseAll(tar, size), whole);
  assert.deepEqual(whole.map((e) => e.header.name), [
    "data.json",
    "empty-dir/",
    "empty.txt",
    "hello.txt",
    "link-to-hello",
    "run.sh",
    "sub/",
    "sub/deeper/",
    "sub/deeper/deep.txt",
    "sub/nested.txt",
  ]);
});

Deno.test("GNU tar lists our archive with zero owner, zero mtime and the right modes", async () => {
  await using dir = await tempDir();
  await makeSampleTree(dir.path);
  const tarPath = join(dir.path, "..", `${crypto.randomUUID()}.tar`);
  await Deno.writeFile(tarPath, await packDir(dir.path));
  try {
    const listing = await runTool("tar", ["--numeric-owner", "-tvf", tarPath], {});
    const lines = listing.stdout.trim().split("\n");
    assert.equal(lines.length, 10);
    for (const line of lines) assert.match(line, / 0\/0 +\d+ 1970-01-01 00:00 /);
    assert.ok(lines.some((l) => /^-rwxr-xr-x .* run\.sh$/.test(l)));
    assert.ok(lines.some((l) => /^lrwxrwxrwx .* link-to-hello -> hello\.txt$/.test(l)));
    // And GNU tar extracts exactly our tree.
    await using out = await tempDir();
    await runTool("tar", ["-xf", tarPath, "-C", out.path]);
    assert.deepEqual(describeTree(out.path), describeTree(dir.path));
  } finally {
    await Deno.remove(tarPath);
  }
});

for (const format of ["gnu", "posix", "ustar", "v7"]) {
  Deno.test(`our parser reads GNU tar's ${format} format, long names included`, async () => {
    await using dir = await tempDir();
    const src = join(dir.path, "src");
    await makeSampleTree(src);
    const longDir = format === "v7" || format === "ustar" ? "long" : "l".repeat(150);
    await Deno.mkdir(join(src, longDir));
    await Deno.writeTextFile(join(src, longDir, "f.txt"), "long\n");
    const tarPath = join(dir.path, "t.tar");
    await runTool("tar", [`--format=${format}`, "-cf", tarPath, "-C", src, "."]);
    const entries = parseAll(await Deno.readFile(tarPath));
    const byName = new Map(
      entries.map((e) => [e.header.name.replace(/^\.\//, "").replace(/\/$/, ""), e]),
    );
    assert.equal(byName.get("hello.txt")?.body, "hello world\n");
    assert.equal(byName.get(`${longDir}/f.txt`)?.body, "long\n");
    assert.equal(byName.get("run.sh")?.header.mode! & 0o777, 0o755);
    assert.equal(byName.get("link-to-hello")?.header.linkname, "hello.txt");
  });
}

Deno.test("the peer fixtures' layers parse: imgpkg USTAR and buildah's tar with symlink", () => {
  const imgpkg = parseAll(zlib.gunzipSync(fixture("imgpkg/layer.tar.gz")));
  assert.deepEqual(imgpkg.map((e) => e.header.name), [
    ".",
    "data.json",
    "empty.txt",
    "hello.txt",
    "run.sh",
    "sub",
    "sub/deeper",
    "sub/deeper/deep.txt",
    "sub/nested.txt",
  ]);
  assert.equal(imgpkg.find((e) => e.header.name === "run.sh")?.header.mode, 0o700);
  const buildah = parseAll(zlib.gunzipSync(fixture("buildah-index/layer.tar.gz")));
  const link = buildah.find((e) => e.header.name === "sample/link-to-hello");
  assert.equal(link?.header.type, "symlink");
  assert.equal(link?.header.linkname, "hello.txt");
  assert.equal(buildah.find((e) => e.header.name === "sample/hello.txt")?.body, "hello world\n");
});

Deno.test("a file that grows or shrinks between listing and packing fails the push", async () => {
  await using dir = await tempDir();
  // Small files are read in one call, big ones streamed: both paths check the size.
  for (const size of [100, 200_000]) {
    const path = join(dir.path, `f${size}`);
    await Deno.writeFile(path, new Uint8Array(size));
    const entries = collectTree([path]);
    await Deno.writeFile(path, new Uint8Array(size + 1));
    await assert.rejects(() => readAll(ReadableStream.from(packTar(entries))), /grew/);
    await Deno.writeFile(path, new Uint8Array(size - 1));
    await assert.rejects(() => readAll(ReadableStream.from(packTar(entries))), /shrank/);
  }
});
