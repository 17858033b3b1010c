/**
 * Test support: what the fuzzer feeds — each target is a corpus of real
 * inputs (the peer fixtures, archives we write, hostile tars), a mutator,
 * the function under test, and the error classes it may throw. Any other
 * exception, or a broken property of a returned value, is a finding.
 */

import zlib from "node:zlib";
import { join } from "node:path";
import { compressStream } from "../../src/archive/compress.ts";
import { decompress } from "../../src/archive/decompress.ts";
import { TreeWriter } from "../../src/archive/extract.ts";
import { decodeHeader, parsePaxRecords } from "../../src/archive/tar_header.ts";
import { packTar } from "../../src/archive/tar_pack.ts";
import { TarParser } from "../../src/archive/tar_reader.ts";
import { collectTree } from "../../src/archive/walk.ts";
import { ZstdFrameSplitter } from "../../src/archive/zstd_frames.ts";
import { IntegrityError, ParseError, UnsafeContentError, UsageError } from "../../src/errors.ts";
import { parseDigest } from "../../src/oci/digest.ts";
import { parseImageConfig, parseManifest } from "../../src/oci/parse.ts";
import {
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
} from "../../src/oci/platform.ts";
import { formatReference, parseReference } from "../../src/reference.ts";
import { fixture } from "./fixtures.ts";
import { concat, mutateBytes, mutateJsonBytes, mutateTar, mutateText, type Rng } from "./fuzz.ts";
import { HOSTILE_CASES } from "./hostile_cases.ts";
import { buildTar } from "./tar_builder.ts";
import { makeSampleTree } from "./tree.ts";

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

/** One fuzz target: a corpus of seeds, and inputs derived from them. */
export interface FuzzTarget<Seed, Input = Seed> {
  /** Real inputs to start from. */
  corpus(): Promise<Seed[]>;
  /** Derive one input from the corpus. */
  mutate(rng: Rng, corpus: Seed[]): Input;
  /** Run the code under test; throw AssertionError-like errors for broken properties. */
  run(input: Input, rng: Rng): unknown | Promise<unknown>;
  /** Error classes the code may throw. */
  allowed: ErrorClass[];
  /** Short text of an input for a failure report. */
  show(input: Input): string;
}

class PropertyError extends Error {}

const dec = new TextDecoder();
const enc = new TextEncoder();

const showBytes = (b: Uint8Array) =>
  `${b.length} bytes: ${btoa(String.fromCharCode(...b.subarray(0, 300)))}`;

const JSON_FIXTURES = [
  "imgpkg/manifest.json",
  "imgpkg-bundle/manifest.json",
  "imgpkg-bundle-copy/image-locations.manifest.json",
  "buildah-index/index.json",
  "buildah-index/manifest-amd64.json",
  "buildah-index/manifest-arm64.json",
];
const CONFIG_FIXTURES = [
  "imgpkg/config.json",
  "imgpkg-bundle/config.json",
  "buildah-index/config-amd64.json",
  "buildah-index/config-arm64.json",
];
const CONTENT_TYPES = [
  undefined,
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/json; charset=utf-8",
  "text/plain",
];

function jsonTarget(
  files: string[],
  run: (bytes: Uint8Array, rng: Rng) => unknown,
): FuzzTarget<unknown, Uint8Array> {
  let raw: Uint8Array[] = [];
  return {
    corpus: () => {
      raw = files.map((f) => fixture(f));
      return Promise.resolve(raw.map((b) => JSON.parse(dec.decode(b)) as unknown));
    },
    mutate: (rng: Rng, docs: unknown[]) => mutateJsonBytes(rng, rng.pick(docs), raw),
    run,
    allowed: [ParseError],
    show: showBytes,
  };
}

/** Tars: the fixtures' layers, what our packer writes, and the small hostile cases. */
async function tarCorpus(): Promise<Uint8Array[]> {
  const tars: Uint8Array[] = [
    new Uint8Array(zlib.gunzipSync(fixture("imgpkg/layer.tar.gz"))),
    new Uint8Array(zlib.gunzipSync(fixture("buildah-index/layer.tar.gz"))),
  ];
  const dir = await Deno.makeTempDir({ prefix: "artifact-cli-fuzz-" });
  try {
    const chunks: Uint8Array[] = [];
    for await (const c of packTar(collectTree([await makeSampleTree(join(dir, "s"))]))) {
      chunks.push(c);
    }
    tars.push(concat(chunks));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Every PAX key the parser interprets, so mutations reach their value checks.
  tars.push(buildTar([
    { name: "g", globalPax: { comment: "global", mtime: "1.5" }, content: "g" },
    {
      name: "p",
      pax: { path: "dir/p.txt", size: "3", uid: "1000", gid: "1000", mtime: "1700000000.25" },
      content: "abc",
    },
    { name: "l", type: "2", pax: { linkpath: "dir/p.txt", uname: "u", gname: "g" } },
    { name: "h", type: "1", linkname: "dir/p.txt" },
    { name: "x", gnuLongName: "dir/long-name.txt", gnuLongLink: "dir/p.txt", type: "1" },
  ]));
  const ctx = { outside: "/nonexistent/outside" };
  for (const testCase of Object.values(HOSTILE_CASES).filter((c) => !c.pullArgs)) {
    for (const layer of testCase.layers(ctx)) if (layer.length < 64 * 1024) tars.push(layer);
  }
  return tars;
}

const sink = { entry() {}, data() {}, endEntry() {} };

function parseTarInChunks(rng: Rng, tar: Uint8Array, parser: TarParser): void {
  for (let o = 0; o < tar.length;) {
    const size = 1 + rng.int(rng.chance(0.5) ? 700 : tar.length);
    parser.write(tar.subarray(o, o + size));
    o += size;
  }
  parser.finish();
}

/** Every target, by name. */
// deno-lint-ignore no-explicit-any
export const FUZZ_TARGETS: Record<string, FuzzTarget<any, any>> = {
  manifest: jsonTarget(JSON_FIXTURES, (bytes, rng) => {
    const parsed = parseManifest(bytes, rng.pick(CONTENT_TYPES));
    const list = parsed.kind === "index" ? parsed.index.manifests : parsed.manifest.layers;
    for (const d of list) parseDigest(d.digest); // what parse returns is valid
    return parsed;
  }),
  config: jsonTarget(CONFIG_FIXTURES, (bytes) => parseImageConfig(bytes)),
  reference: {
    corpus: () =>
      Promise.resolve([
        "ubuntu",
        "docker.io/library/ubuntu:22.04",
        "localhost:5000/workshops/lab:v1",
        `127.0.0.1:5000/a/b@sha256:${"a".repeat(64)}`,
        "[::1]:5000/repo:tag",
        "registry.example.com/a/b-c/d_e:v1.2",
        "oci:./store:v1",
        `oci:/abs/path@sha256:${"b".repeat(64)}`,
        "ghcr.io/org/repo:tag@sha256:" + "c".repeat(64),
      ]),
    mutate: (rng, corpus) => mutateText(rng, rng.pick(corpus)),
    run: (text, rng) => {
      const ref = parseReference(text, { ociLayout: rng.chance(0.1) });
      const formatted = formatReference(ref);
      if (ref.kind === "registry") {
        const again = formatReference(parseReference(formatted));
        if (again !== formatted) throw new PropertyError(`${formatted} re-parses as ${again}`);
      }
      return ref;
    },
    allowed: [UsageError],
    show: (t) => JSON.stringify(t.slice(0, 300)),
  },
  platform: {
    corpus: () =>
      Promise.resolve([
        "linux/amd64",
        "linux/arm64/v8",
        "linux/arm/v7",
        "windows/amd64",
        "darwin/arm64",
      ]),
    mutate: (rng, corpus) => mutateText(rng, rng.pick(corpus)),
    run: (text) => {
      const platform = parsePlatform(text);
      if (!platformMatches(platform, platform)) {
        throw new PropertyError(`${text} does not match itself`);
      }
      const again = formatPlatform(parsePlatform(formatPlatform(platform)));
      if (again !== formatPlatform(platform)) throw new PropertyError(`${text} round trip`);
      return normalizePlatform(platform);
    },
    allowed: [UsageError],
    show: (t) => JSON.stringify(t.slice(0, 300)),
  },
  "tar-header": {
    corpus: tarCorpus,
    mutate: (rng, corpus) => {
      const tar = mutateTar(rng, rng.pick(corpus), corpus);
      const block = new Uint8Array(512);
      const start = 512 * rng.int(Math.max(1, Math.floor(tar.length / 512)));
      block.set(tar.subarray(start, start + 512));
      return rng.chance(0.3) ? mutateBytes(rng, block).subarray(0, 512) : block;
    },
    run: (block) => {
      if (block.length < 512) return undefined;
      return decodeHeader(block);
    },
    allowed: [ParseError],
    show: showBytes,
  },
  "pax-records": {
    corpus: () =>
      Promise.resolve([
        enc.encode("30 mtime=1432668921.098285006\n30 ctime=1432668921.098285006\n"),
        enc.encode(`${"x".length + 12} path=x.txt\n19 linkpath=target\n`),
        enc.encode("22 GNU.sparse.major=1\n"),
      ]),
    mutate: (rng, corpus) => mutateBytes(rng, rng.pick(corpus), corpus),
    run: (bytes) => parsePaxRecords(bytes),
    allowed: [ParseError],
    show: showBytes,
  },
  "tar-parser": {
    corpus: tarCorpus,
    mutate: (rng, corpus) => mutateTar(rng, rng.pick(corpus), corpus),
    run: (tar, rng) => parseTarInChunks(rng, tar, new TarParser(sink)),
    allowed: [ParseError],
    show: showBytes,
  },
  "tar-extract": {
    corpus: tarCorpus,
    mutate: (rng, corpus) => mutateTar(rng, rng.pick(corpus), corpus),
    run: async (tar, rng) => await extractIsolated(tar, rng),
    allowed: [ParseError, UnsafeContentError],
    show: showBytes,
  },
  "zstd-frames": {
    corpus: zstdCorpus,
    mutate: (rng, corpus) => mutateBytes(rng, rng.pick(corpus), corpus),
    run: (bytes, rng) => {
      const splitter = new ZstdFrameSplitter();
      let fed = 0;
      for (let o = 0; o < bytes.length;) {
        const size = 1 + rng.int(bytes.length);
        for (const s of splitter.feed(bytes.subarray(o, o + size))) fed += s.data.length;
        o += size;
      }
      splitter.finish();
      if (fed > bytes.length) throw new PropertyError("segments longer than the input");
      return fed;
    },
    allowed: [IntegrityError],
    show: showBytes,
  },
  decompress: {
    corpus: async () => [...(await zstdCorpus()), fixture("imgpkg/layer.tar.gz")],
    mutate: (rng, corpus) => mutateBytes(rng, rng.pick(corpus), corpus),
    run: async (bytes) => {
      const kind = bytes[0] === 0x1f ? "gzip" : "zstd";
      let total = 0;
      for await (const chunk of decompress([bytes], kind)) total += chunk.length;
      return total;
    },
    allowed: [IntegrityError],
    show: showBytes,
  },
};

async function zstdCorpus(): Promise<Uint8Array[]> {
  const text = enc.encode("hello zstd ".repeat(500));
  const frames: Uint8Array[] = [];
  for await (const c of compressStream([text, text, text], { compression: "zstd" })) frames.push(c);
  const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
  const one = new Uint8Array(zlib.zstdCompressSync(text));
  return [one, concat(frames), concat([skippable, one, one]), new Uint8Array(zlib.gzipSync(text))];
}

/**
 * Extract into a fresh root inside a fresh parent; nothing may appear in the
 * parent but the root, whatever the input did.
 */
async function extractIsolated(tar: Uint8Array, rng: Rng): Promise<void> {
  const parent = await Deno.makeTempDir({ prefix: "artifact-cli-fuzz-" });
  const root = join(parent, "root");
  await Deno.mkdir(root);
  const writer = new TreeWriter(root, { maxBytes: 4 * 1024 * 1024, maxEntries: 2000 });
  try {
    parseTarInChunks(rng, tar, new TarParser(writer.beginLayer()));
    writer.finish();
  } finally {
    writer.abort();
    const names = [...Deno.readDirSync(parent)].map((e) => e.name);
    await Deno.chmod(root, 0o700).catch(() => {});
    await Deno.remove(parent, { recursive: true }).catch(async () => {
      await new Deno.Command("chmod", { args: ["-R", "u+rwx", parent] }).output();
      await Deno.remove(parent, { recursive: true });
    });
    if (names.join() !== "root") {
      // deno-lint-ignore no-unsafe-finally
      throw new PropertyError(`extraction wrote outside its root: ${names.join(", ")}`);
    }
  }
}
