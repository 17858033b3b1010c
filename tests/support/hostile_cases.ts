/**
 * Test support: the hostile tar layers of the security suite, generated
 * byte by byte. Each case is only the input; what artifact-cli and GNU tar
 * must do with it lives in tests/hostile_tar_test.ts.
 */

import type { CaseContext, HostileCase } from "./hostile_run.ts";
import { base256, buildTar, negativeBase256 } from "./tar_builder.ts";

const MiB = 1024 * 1024;

function c(
  id: string,
  layers: (ctx: CaseContext) => Uint8Array[],
  extra: Partial<HostileCase> = {},
): HostileCase {
  return { id, layers, ...extra };
}

/** Every hostile case, by id. */
export const HOSTILE_CASES: Record<string, HostileCase> = Object.fromEntries([
  c("dotdot", () => [buildTar([{ name: "../escaped.txt", content: "x" }])]),
  c("dotdot-inner", () => [buildTar([{ name: "a/../../escaped.txt", content: "x" }])]),
  c("absolute", (ctx) => [buildTar([{ name: `${ctx.outside}/abs.txt`, content: "x" }])]),
  c("symlink-escape-absolute", (ctx) => [buildTar([
    { name: "link", type: "2", linkname: ctx.outside },
    { name: "link/pwned.txt", content: "x" },
  ])]),
  c("symlink-escape-relative", () => [buildTar([
    { name: "link", type: "2", linkname: "../outside" },
    { name: "link/pwned.txt", content: "x" },
  ])]),
  c("symlink-escape-next-layer", (ctx) => [
    buildTar([{ name: "link", type: "2", linkname: ctx.outside }]),
    buildTar([{ name: "link/pwned.txt", content: "x" }]),
  ]),
  c("symlink-chain", () => [buildTar([
    { name: "a", type: "2", linkname: "b" },
    { name: "b", type: "2", linkname: "c/.." },
    { name: "c", type: "2", linkname: ".." },
    { name: "a/outside/pwned.txt", content: "x" },
  ])]),
  c("symlink-overwrite-target", (ctx) => [buildTar([
    { name: "secret", type: "2", linkname: `${ctx.outside}/secret.txt` },
    { name: "secret", content: "overwritten" },
  ])]),
  c("hardlink-absolute", (ctx) => [buildTar([
    { name: "h", type: "1", linkname: `${ctx.outside}/secret.txt` },
  ])]),
  c("hardlink-dotdot", () => [buildTar([
    { name: "h", type: "1", linkname: "../outside/secret.txt" },
  ])]),
  c("hardlink-then-write", (ctx) => [buildTar([
    { name: "h", type: "1", linkname: `${ctx.outside}/secret.txt` },
    { name: "h", content: "overwritten" },
  ])]),
  c("hardlink-to-symlink", (ctx) => [buildTar([
    { name: "s", type: "2", linkname: `${ctx.outside}/secret.txt` },
    { name: "h", type: "1", linkname: "s" },
  ])]),
  c("hardlink-through-symlink", (ctx) => [buildTar([
    { name: "d", type: "2", linkname: ctx.outside },
    { name: "h", type: "1", linkname: "d/secret.txt" },
  ])]),
  c("devices-and-fifo", () => [buildTar([
    { name: "null", type: "3", mode: 0o666 },
    { name: "disk", type: "4", mode: 0o660 },
    { name: "fifo", type: "6", mode: 0o644 },
    { name: "after.txt", content: "after" },
  ])]),
  c("setuid-setgid", () => [buildTar([
    { name: "suid", content: "#!/bin/sh\n", mode: 0o4755 },
    { name: "sgid-dir/", type: "5", mode: 0o2775 },
    { name: "sticky/", type: "5", mode: 0o1777 },
  ])]),
  c("pax-long-name", () => [buildTar([{
    name: "long",
    pax: { path: `${"d".repeat(100)}/${"e".repeat(100)}/${"f".repeat(100)}.txt` },
    content: "long",
  }])]),
  c("pax-component-too-long", () => [buildTar([{
    name: "long",
    pax: { path: `dir/${"n".repeat(300)}` },
    content: "x",
  }])]),
  c("gnu-longname-dotdot", () => [buildTar([{
    name: "innocent.txt",
    gnuLongName: `../${"x".repeat(120)}`,
    content: "x",
    magic: "gnu",
  }])]),
  c("pax-path-nul", () => [buildTar([{
    name: "innocent.txt",
    pax: { path: "ok.txt\u0000../../escaped.txt" },
    content: "x",
  }])]),
  c("duplicate-entries", () => [buildTar([
    { name: "dup.txt", content: "first" },
    { name: "dup.txt", content: "second" },
  ])]),
  c("file-replaces-dir", () => [buildTar([
    { name: "a/", type: "5" },
    { name: "a/inner.txt", content: "inner" },
    { name: "a", content: "now a file" },
  ])]),
  c("dir-replaces-file", () => [buildTar([
    { name: "b", content: "a file" },
    { name: "b/", type: "5" },
    { name: "b/c.txt", content: "c" },
  ])]),
  c("whiteout-dotdot", () => [
    buildTar([{ name: "keep.txt", content: "k" }]),
    buildTar([{ name: "../.wh.outside" }]),
  ]),
  c("whiteout-through-symlink", (ctx) => [
    buildTar([{ name: "link", type: "2", linkname: ctx.outside }]),
    buildTar([{ name: "link/.wh.secret.txt" }, { name: "link/.wh..wh..opq" }]),
  ]),
  c("gzip-bomb", () => [buildTar([{ name: "zeros", content: new Uint8Array(24 * MiB) }])], {
    pullArgs: ["--max-size", "4M"],
  }),
  c("bomb-in-skipped-body", () => [buildTar([
    { name: "dev", type: "3", content: new Uint8Array(24 * MiB) },
  ])], { pullArgs: ["--max-size", "4M"] }),
  c("bomb-after-end", () => [
    new Uint8Array([
      ...buildTar([{ name: "small.txt", content: "small" }]),
      ...new Uint8Array(24 * MiB),
    ]),
  ], { pullArgs: ["--max-size", "4M"] }),
  c("negative-size", () => [buildTar([
    { name: "neg", sizeField: negativeBase256(-512n) },
    { name: "after.txt", content: "x" },
  ])]),
  c("base256-size", () => [buildTar([
    { name: "b256.txt", sizeField: base256(5n), content: "hello" },
  ])]),
  c("huge-pax-record", () => [buildTar([
    { name: "p.txt", pax: { comment: "c".repeat(2 * MiB) }, content: "x" },
  ])]),
  c("many-pax-headers", () => [buildTar([
    ...Array.from({ length: 3000 }, (_, i) => ({
      name: "ignored",
      type: "x",
      content: paxKey(i),
    })),
    { name: "after.txt", content: "x" },
  ])]),
  c("sparse-gnu", () => [buildTar([{ name: "sparse", type: "S", content: "data", magic: "gnu" }])]),
  c("sparse-pax", () => [buildTar([{
    name: "GNUSparseFile.0/sparse",
    pax: {
      "GNU.sparse.major": "1",
      "GNU.sparse.minor": "0",
      "GNU.sparse.name": "sparse",
      "GNU.sparse.realsize": "1028",
    },
    // PAX sparse 1.0: a map (1 region at offset 1024 of 4 bytes) in its own block, then the data.
    content: new Uint8Array([...padTo512("1\n1024\n4\n"), ...new TextEncoder().encode("data")]),
  }])]),
  c("bad-checksum", () => [buildTar([{ name: "bad.txt", content: "x", badChecksum: true }])]),
  c("truncated-body", () => [
    buildTar([{ name: "cut.txt", size: 4096, content: "only a little" }], { end: false }),
  ]),
  c("no-end-marker", () => [buildTar([{ name: "open.txt", content: "x" }], { end: false })]),
  c("path-too-long", () => [buildTar([{
    name: "deep",
    pax: { path: Array.from({ length: 40 }, () => "x".repeat(200)).join("/") + "/f.txt" },
    content: "x",
  }])]),
  c("symlink-target-too-long", () => [buildTar([{
    name: "l",
    type: "2",
    linkname: "t",
    pax: { linkpath: "t/".repeat(3000) },
  }])]),
  c("file-named-root", () => [buildTar([{ name: "./", type: "0", content: "x" }])]),
  c("hardlink-to-dir", () => [buildTar([
    { name: "d/", type: "5" },
    { name: "h", type: "1", linkname: "d" },
  ])]),
].map((testCase) => [testCase.id, testCase]));

/** A PAX record block setting a distinct key, so pending records grow. */
function paxKey(i: number): Uint8Array {
  const body = ` key${i}=${"v".repeat(400)}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return new TextEncoder().encode(`${len}${body}`);
}

function padTo512(text: string): Uint8Array {
  const out = new Uint8Array(512);
  out.set(new TextEncoder().encode(text));
  return out;
}
