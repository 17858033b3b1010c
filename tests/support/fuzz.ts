/**
 * Test support for fuzzing: a seeded PRNG (every input is reproducible from
 * the seed and its index) and mutators for bytes, JSON documents, strings
 * and tar archives.
 */

/** mulberry32: small, fast, and good enough to drive mutations. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The generator for input `index` of a run with `seed`: inputs do not depend on each other. */
export function rngFor(seed: number, index: number): Rng {
  return new Rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

const enc = new TextEncoder();
const INTERESTING_BYTES = [
  0,
  0xff,
  0x7f,
  0x80,
  0x20,
  0x0a,
  0x22,
  0x2f,
  0x2e,
  0x30,
  0x37,
  0x5c,
  0xc3,
];

/** One random byte-level mutation (flip, set, insert, delete, duplicate, truncate, splice). */
export function mutateBytes(rng: Rng, input: Uint8Array, corpus: Uint8Array[] = []): Uint8Array {
  const bytes = new Uint8Array(input);
  const at = () => rng.int(Math.max(1, bytes.length));
  switch (rng.int(8)) {
    case 0: { // bit flips
      for (let n = 1 + rng.int(4); n > 0 && bytes.length; n--) bytes[at()] ^= 1 << rng.int(8);
      return bytes;
    }
    case 1: { // interesting bytes
      for (let n = 1 + rng.int(4); n > 0 && bytes.length; n--) {
        bytes[at()] = rng.pick(INTERESTING_BYTES);
      }
      return bytes;
    }
    case 2: { // insert random or interesting bytes
      const pos = at();
      const insert = Uint8Array.from(
        { length: 1 + rng.int(16) },
        () => rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256),
      );
      return concat([bytes.subarray(0, pos), insert, bytes.subarray(pos)]);
    }
    case 3: { // delete a range
      const pos = at();
      return concat([bytes.subarray(0, pos), bytes.subarray(pos + 1 + rng.int(64))]);
    }
    case 4: { // duplicate a range
      const pos = at();
      const piece = bytes.subarray(pos, pos + 1 + rng.int(512));
      return concat([bytes.subarray(0, pos), piece, piece, bytes.subarray(pos + piece.length)]);
    }
    case 5: // truncate
      return bytes.subarray(0, at());
    case 6: { // splice with another input
      const other = corpus.length ? rng.pick(corpus) : bytes;
      return concat([bytes.subarray(0, at()), other.subarray(rng.int(Math.max(1, other.length)))]);
    }
    default: { // overwrite a range with random bytes
      const pos = at();
      for (let i = pos; i < Math.min(bytes.length, pos + 1 + rng.int(32)); i++) {
        bytes[i] = rng.int(256);
      }
      return bytes;
    }
  }
}

/** Values that break assumptions: wrong types, huge and odd numbers, odd strings. */
function interestingValue(rng: Rng): unknown {
  const values: (() => unknown)[] = [
    () => null,
    () => true,
    () => 0,
    () => -1,
    () => 1.5,
    () => 1e308,
    () => 2 ** 53 + 2,
    () => Number.MAX_SAFE_INTEGER,
    () => "",
    () => "x".repeat(1 + rng.int(70000)),
    () => "\u0000",
    () => "\ud800",
    () => "é🎉\u202e",
    () => "sha256:" + "a".repeat(64),
    () => "application/vnd.oci.image.index.v1+json",
    () => "application/vnd.oci.image.manifest.v1+json",
    () => [],
    () => ({}),
    () => deep(rng.int(200)),
  ];
  return rng.pick(values)();
}

function deep(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

type JsonPath = (string | number)[];

function paths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (out.length > 2000) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

/** One structural mutation of a JSON document (type swaps, deletions, growth, nesting). */
export function mutateJson(rng: Rng, doc: unknown): unknown {
  const root = structuredClone(doc);
  const all = paths(root);
  const path = rng.pick(all);
  if (path.length === 0) return rng.chance(0.5) ? interestingValue(rng) : root;
  // deno-lint-ignore no-explicit-any
  let parent: any = root;
  for (const step of path.slice(0, -1)) parent = parent[step];
  const key = path[path.length - 1];
  switch (rng.int(5)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1: { // grow an array past any limit, or repeat an element
      const value = parent[key];
      if (Array.isArray(value) && value.length) {
        const times = rng.chance(0.3) ? 4097 : 1 + rng.int(8);
        parent[key] = Array.from({ length: times }, () => value[rng.int(value.length)]);
      } else parent[key] = interestingValue(rng);
      break;
    }
    case 2: // an unknown key next to the known ones
      if (!Array.isArray(parent)) parent[`x-${rng.int(100)}`] = interestingValue(rng);
      break;
    default:
      parent[key] = interestingValue(rng);
  }
  return root;
}

/** Mutate a JSON document: structurally, then sometimes as text or bytes too. */
export function mutateJsonBytes(rng: Rng, doc: unknown, corpus: Uint8Array[]): Uint8Array {
  let value = doc;
  let text = JSON.stringify(doc) ?? "null";
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const next = mutateJson(rng, value);
    try {
      const nextText = JSON.stringify(next) ?? "null";
      // Keep inputs around the 4 MiB manifest limit, not far past it (the mutator's own limit).
      if (nextText.length > 6 * 1024 * 1024) continue;
      [value, text] = [next, nextText];
    } catch {
      continue; // too big to serialise: not an input a registry could send
    }
  }
  if (rng.chance(0.1)) text = text.replace(/"mediaType":"[^"]*"/, (m) => `${m},${m}`);
  if (rng.chance(0.05)) text = "\ufeff" + text;
  if (rng.chance(0.05) && text.startsWith("{")) {
    // Nesting far deeper than any structure needs (as text: no recursion here).
    const depth = 1 + rng.int(50_000);
    text = `{"deep":${"[".repeat(depth)}${"]".repeat(depth)},${text.slice(1)}`;
  }
  let bytes: Uint8Array = enc.encode(text);
  if (rng.chance(0.3)) bytes = mutateBytes(rng, bytes, corpus);
  return bytes;
}

const REFERENCE_PIECES = [
  "/",
  ":",
  "@",
  ".",
  "-",
  "_",
  "__",
  "[",
  "]",
  "::1",
  "sha256:",
  "A",
  "é",
  " ",
  "\u0000",
  "oci:",
  "localhost",
  "5000",
  "x".repeat(300),
];

/** Mutate a short text (a reference, a platform) by characters and pieces. */
export function mutateText(rng: Rng, text: string): string {
  let out = text;
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const pos = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        out = out.slice(0, pos) + rng.pick(REFERENCE_PIECES) + out.slice(pos);
        break;
      case 1:
        out = out.slice(0, pos) + out.slice(pos + 1 + rng.int(8));
        break;
      case 2:
        out = out.slice(0, pos) + String.fromCharCode(rng.int(0x3000)) + out.slice(pos + 1);
        break;
      default:
        out = rng.chance(0.5) ? out.toUpperCase() : out + out.slice(rng.int(out.length + 1));
    }
  }
  return out;
}

/** Byte mutations of a tar that also aim at header fields, fixing checksums so parsing goes deeper. */
export function mutateTar(rng: Rng, tar: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let bytes = new Uint8Array(tar);
  const headers: number[] = [];
  for (let o = 0; o + 512 <= bytes.length; o += 512) {
    if (String.fromCharCode(...bytes.subarray(o + 257, o + 262)) === "ustar") {
      headers.push(o);
    }
  }
  for (let n = 1 + rng.int(3); n > 0; n--) {
    if (headers.length && rng.chance(0.6)) {
      const h = rng.pick(headers);
      const field = rng.pick([[0, 100], [100, 8], [124, 12], [156, 1], [157, 100], [345, 155]]);
      if (field[0] === 156) {
        bytes[h + 156] = rng.pick([..."0123456789xgLKSDVMN\u0000A"]).charCodeAt(0);
      } else if (field[0] === 124 && rng.chance(0.5)) {
        bytes[h + 124] = rng.pick([0x80, 0xff, 0x30]);
        for (let i = 1; i < 12; i++) bytes[h + 124 + i] = rng.chance(0.5) ? 0 : rng.int(256);
      } else {
        const pos = h + field[0] + rng.int(field[1]);
        bytes[pos] = rng.chance(0.5) ? rng.pick([0x2e, 0x2f, 0x30, 0x37, 0x00]) : rng.int(256);
      }
    } else if (rng.chance(0.3)) mutatePaxValue(rng, bytes);
    else bytes = new Uint8Array(mutateBytes(rng, bytes, corpus));
  }
  if (rng.chance(0.8)) fixChecksums(bytes);
  return bytes;
}

/** Change one character of a PAX record value (after some `=`), keeping record lengths. */
function mutatePaxValue(rng: Rng, bytes: Uint8Array): void {
  const equals: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x3d) equals.push(i);
  if (!equals.length) return;
  const at = rng.pick(equals) + 1 + rng.int(3);
  if (at < bytes.length && bytes[at] !== 0x0a) {
    bytes[at] = rng.pick([..."-x9 .\u00ff/"]).charCodeAt(0);
  }
}

function fixChecksums(bytes: Uint8Array): void {
  for (let o = 0; o + 512 <= bytes.length; o += 512) {
    if (String.fromCharCode(...bytes.subarray(o + 257, o + 262)) !== "ustar") continue;
    bytes.fill(0x20, o + 148, o + 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += bytes[o + i];
    const digits = sum.toString(8).padStart(6, "0").slice(-6);
    for (let i = 0; i < 6; i++) bytes[o + 148 + i] = digits.charCodeAt(i);
    bytes[o + 154] = 0;
  }
}

/** Concatenate byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
