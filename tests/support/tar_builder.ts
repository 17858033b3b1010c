/**
 * Test support: writing arbitrary (including hostile) tar archives byte by
 * byte, independently of the production encoder. Every field can be set to
 * something no honest writer produces: raw size fields (base-256, negative),
 * GNU long-name records, global and per-entry PAX records with any bytes,
 * USTAR prefixes, bad checksums, missing end-of-archive blocks.
 */

import zlib from "node:zlib";

/** One raw entry. `type` is the typeflag character. */
export interface RawEntry {
  name: string;
  type?: string;
  mode?: number;
  content?: string | Uint8Array;
  linkname?: string;
  /** Extra PAX records written before the entry (an 'x' header). */
  pax?: Record<string, string>;
  /** Global PAX records written before the entry (a 'g' header). */
  globalPax?: Record<string, string>;
  /** A GNU long-name record ('L') written before the entry. */
  gnuLongName?: string;
  /** A GNU long-link record ('K') written before the entry. */
  gnuLongLink?: string;
  /** Declared size, when it should differ from the content's. */
  size?: number;
  /** The raw 12-byte size field (base-256, negative, garbage), overriding `size`. */
  sizeField?: Uint8Array;
  /** USTAR prefix field (joined to the name with `/` by readers). */
  prefix?: string;
  /** Magic: USTAR (default), old GNU (`ustar  `) or none (v7). */
  magic?: "ustar" | "gnu" | "v7";
  /** Store a wrong checksum. */
  badChecksum?: boolean;
}

/** Raw bytes spliced into the archive as they are (must be whole blocks to stay aligned). */
export interface RawBytes {
  raw: Uint8Array;
}

const enc = new TextEncoder();

function octal(block: Uint8Array, offset: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, "0");
  block.set(enc.encode(text), offset);
  block[offset + width - 1] = 0;
}

interface HeaderFields {
  name: string;
  type: string;
  mode: number;
  size: number;
  linkname: string;
  sizeField?: Uint8Array;
  prefix?: string;
  magic?: RawEntry["magic"];
  badChecksum?: boolean;
}

/** One 512-byte header block. */
export function rawHeader(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(512);
  block.set(enc.encode(fields.name).subarray(0, 100), 0);
  octal(block, 100, 8, fields.mode);
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  if (fields.sizeField) block.set(fields.sizeField.subarray(0, 12), 124);
  else octal(block, 124, 12, fields.size);
  octal(block, 136, 12, 0);
  block[156] = fields.type.charCodeAt(0);
  block.set(enc.encode(fields.linkname).subarray(0, 100), 157);
  const magic = fields.magic ?? "ustar";
  if (magic === "ustar") block.set(enc.encode("ustar\u000000"), 257);
  if (magic === "gnu") block.set(enc.encode("ustar  \u0000"), 257);
  if (fields.prefix) block.set(enc.encode(fields.prefix).subarray(0, 155), 345);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  octal(block, 148, 7, fields.badChecksum ? sum + 1 : sum);
  block[155] = 0x20;
  return block;
}

/** A GNU base-256 size field (first byte 0x80, big-endian value). */
export function base256(value: bigint): Uint8Array {
  const field = new Uint8Array(12);
  let v = value;
  for (let i = 11; i > 0; i--) {
    field[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  field[0] = 0x80;
  return field;
}

/** A negative GNU base-256 field (two's complement, first byte 0xff). */
export function negativeBase256(value: bigint): Uint8Array {
  const field = new Uint8Array(12);
  let v = (1n << 96n) + value; // two's complement over 12 bytes
  for (let i = 11; i >= 0; i--) {
    field[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return field;
}

/** PAX records text, each `"<len> key=value\n"`. */
export function paxRecords(records: Record<string, string>): Uint8Array {
  return enc.encode(
    Object.entries(records).map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      const bodyLength = enc.encode(body).byteLength;
      let len = bodyLength + 1;
      while (String(len).length + bodyLength !== len) len++;
      return `${len}${body}`;
    }).join(""),
  );
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.byteLength / 512) * 512);
  out.set(data);
  return out;
}

function metaEntry(type: string, name: string, body: Uint8Array): Uint8Array[] {
  return [
    rawHeader({ name, type, mode: 0o644, size: body.byteLength, linkname: "" }),
    padded(body),
  ];
}

/** Build an uncompressed tar from raw entries (with end-of-archive blocks unless `end: false`). */
export function buildTar(
  entries: (RawEntry | RawBytes)[],
  options: { end?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if ("raw" in e) {
      parts.push(e.raw);
      continue;
    }
    if (e.globalPax) parts.push(...metaEntry("g", "pax_global_header", paxRecords(e.globalPax)));
    if (e.gnuLongLink !== undefined) {
      parts.push(...metaEntry("K", "././@LongLink", enc.encode(e.gnuLongLink + "\0")));
    }
    if (e.gnuLongName !== undefined) {
      parts.push(...metaEntry("L", "././@LongLink", enc.encode(e.gnuLongName + "\0")));
    }
    if (e.pax) parts.push(...metaEntry("x", "PaxHeaders/x", paxRecords(e.pax)));
    const content = typeof e.content === "string"
      ? enc.encode(e.content)
      : e.content ?? new Uint8Array();
    const type = e.type ?? "0";
    const mode = e.mode ?? (type === "5" ? 0o755 : 0o644);
    parts.push(rawHeader({
      name: e.name,
      type,
      mode,
      size: e.size ?? content.byteLength,
      linkname: e.linkname ?? "",
      sizeField: e.sizeField,
      prefix: e.prefix,
      magic: e.magic,
      badChecksum: e.badChecksum,
    }));
    if (content.byteLength) parts.push(padded(content));
  }
  if (options.end !== false) parts.push(new Uint8Array(1024));
  return concat(parts);
}

/** Concatenate byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** gzip of buildTar(entries). */
export function buildTarGz(entries: (RawEntry | RawBytes)[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(zlib.gzipSync(buildTar(entries)));
}
