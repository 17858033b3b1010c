/**
 * Tar headers: encoding the deterministic USTAR (+PAX where needed) headers
 * artifact-cli writes, and decoding the USTAR, GNU and PAX headers found in
 * the wild. Pure functions over 512-byte blocks; no I/O.
 *
 * @module
 */

import { ParseError } from "../errors.ts";

/** Tar block size. */
export const BLOCK = 512;

/** What an entry is. */
export type TarEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "chardev"
  | "blockdev"
  | "fifo"
  | "other";

/** A decoded tar entry header (after PAX and GNU long-name records are applied). */
export interface TarHeader {
  /** Path as stored (may have `./` prefix or trailing `/`). */
  name: string;
  type: TarEntryType;
  /** The raw typeflag character, for messages. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  /**
   * Bytes of header blocks and metadata records (PAX, GNU long names) read
   * for this entry; set by TarParser so consumers can bound the whole
   * uncompressed stream, not just file bodies.
   */
  headerBytes?: number;
}

/** What the writer needs to know about an entry. */
export interface TarWriteEntry {
  name: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  size: number;
  linkname?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MAX_OCTAL_SIZE = 0o77777777777; // 11 octal digits
// Made once: a push encodes a header per file, and each fresh buffer is garbage to collect.
const USTAR_MAGIC = encoder.encode("ustar\u000000");
const NO_BYTES = new Uint8Array(0);

const TYPEFLAG_OF: Record<TarWriteEntry["type"], string> = {
  file: "0",
  directory: "5",
  symlink: "2",
};

/**
 * Encode the header block(s) for one entry: a PAX extended header first when
 * the name, link target or size does not fit USTAR, then the USTAR header.
 * Owner, group and mtime are always zero so that output is reproducible.
 *
 * @example
 * ```ts
 * import { encodeHeader } from "./tar_header.ts";
 * const blocks = encodeHeader({ name: "a.txt", type: "file", mode: 0o644, size: 3 });
 * console.assert(blocks.byteLength === 512);
 * ```
 */
export function encodeHeader(entry: TarWriteEntry): Uint8Array<ArrayBuffer> {
  const nameBytes = encoder.encode(entry.name);
  const linkBytes = entry.linkname ? encoder.encode(entry.linkname) : NO_BYTES;
  const pax: [string, string][] = [];
  let split = splitUstarName(nameBytes);
  if (!split) {
    pax.push(["path", entry.name]);
    split = { prefix: new Uint8Array(), name: truncateUtf8(nameBytes, 100) };
  }
  if (linkBytes.byteLength > 100) pax.push(["linkpath", entry.linkname!]);
  if (entry.size > MAX_OCTAL_SIZE) pax.push(["size", String(entry.size)]);

  const ustar = new Uint8Array(BLOCK);
  ustar.set(split.name, 0);
  writeOctal(ustar, 100, 8, entry.mode & 0o7777);
  writeOctal(ustar, 108, 8, 0);
  writeOctal(ustar, 116, 8, 0);
  writeOctal(ustar, 124, 12, entry.size > MAX_OCTAL_SIZE ? 0 : entry.size);
  writeOctal(ustar, 136, 12, 0);
  ustar[156] = TYPEFLAG_OF[entry.type].charCodeAt(0);
  ustar.set(linkBytes.subarray(0, 100), 157);
  ustar.set(USTAR_MAGIC, 257);
  writeOctal(ustar, 329, 8, 0);
  writeOctal(ustar, 337, 8, 0);
  ustar.set(split.prefix, 345);
  writeChecksum(ustar);
  if (pax.length === 0) return ustar;

  const records = encoder.encode(pax.map(([k, v]) => paxRecord(k, v)).join(""));
  const paxBlocks = Math.ceil(records.byteLength / BLOCK);
  const out = new Uint8Array(BLOCK * (2 + paxBlocks));
  const paxHeader = out.subarray(0, BLOCK);
  paxHeader.set(truncateUtf8(encoder.encode(`PaxHeaders.0/${basename(entry.name)}`), 100), 0);
  writeOctal(paxHeader, 100, 8, 0o644);
  writeOctal(paxHeader, 108, 8, 0);
  writeOctal(paxHeader, 116, 8, 0);
  writeOctal(paxHeader, 124, 12, records.byteLength);
  writeOctal(paxHeader, 136, 12, 0);
  paxHeader[156] = "x".charCodeAt(0);
  paxHeader.set(USTAR_MAGIC, 257);
  writeOctal(paxHeader, 329, 8, 0);
  writeOctal(paxHeader, 337, 8, 0);
  writeChecksum(paxHeader);
  out.set(records, BLOCK);
  out.set(ustar, BLOCK * (1 + paxBlocks));
  return out;
}

/** One PAX record: `"<len> key=value\n"` where len counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).byteLength;
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length + bodyLength !== length) length++;
  return `${length}${body}`;
}

function splitUstarName(name: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (name.byteLength <= 100) return { prefix: new Uint8Array(), name };
  if (name.byteLength > 256) return undefined;
  // Split at a '/' so that prefix <= 155 bytes and name <= 100 bytes.
  for (let i = Math.min(155, name.byteLength - 1); i > 0; i--) {
    if (name[i] === 0x2f && name.byteLength - i - 1 <= 100 && name.byteLength - i - 1 > 0) {
      return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
    }
  }
  return undefined;
}

function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  return bytes.byteLength <= max ? bytes : bytes.subarray(0, max);
}

function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1) || "entry";
}

function writeOctal(block: Uint8Array, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, "0");
  for (let i = 0; i < width - 1; i++) block[offset + i] = digits.charCodeAt(i);
  block[offset + width - 1] = 0;
}

function writeChecksum(block: Uint8Array): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i];
  const digits = sum.toString(8).padStart(6, "0");
  for (let i = 0; i < 6; i++) block[148 + i] = digits.charCodeAt(i);
  block[154] = 0;
  block[155] = 0x20;
}

/** True when a 512-byte block is all zeros (end-of-archive marker). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The fields of a raw header block, before PAX/GNU overrides. */
export interface RawHeader extends TarHeader {
  /** USTAR prefix joined into `name` already; kept for diagnostics. */
  format: "ustar" | "gnu" | "v7";
}

/**
 * Decode one 512-byte header block. Throws ParseError on a bad checksum or
 * unparsable numeric field, so non-tar data is rejected rather than misread.
 */
export function decodeHeader(block: Uint8Array): RawHeader {
  const stored = parseNumeric(block, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new ParseError("invalid tar header checksum (not a tar archive, or corrupted)");
  }
  const magic = decoder.decode(block.subarray(257, 263));
  const format = magic === "ustar\u0000" ? "ustar" : magic === "ustar " ? "gnu" : "v7";
  let name = cString(block, 0, 100);
  if (format === "ustar") {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeflag = block[156] === 0 ? "0" : String.fromCharCode(block[156]);
  return {
    name,
    type: typeOf(typeflag),
    typeflag,
    mode: parseNumeric(block, 100, 8, "mode"),
    uid: parseNumeric(block, 108, 8, "uid"),
    gid: parseNumeric(block, 116, 8, "gid"),
    size: parseNumeric(block, 124, 12, "size"),
    mtime: parseNumeric(block, 136, 12, "mtime"),
    linkname: cString(block, 157, 100),
    uname: format === "v7" ? "" : cString(block, 265, 32),
    gname: format === "v7" ? "" : cString(block, 297, 32),
    format,
  };
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case "0":
    case "7":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "3":
      return "chardev";
    case "4":
      return "blockdev";
    case "5":
      return "directory";
    case "6":
      return "fifo";
    default:
      return "other";
  }
}

function cString(block: Uint8Array, offset: number, width: number): string {
  let end = offset;
  while (end < offset + width && block[end] !== 0) end++;
  return decoder.decode(block.subarray(offset, end));
}

/** Octal (NUL/space padded) or GNU base-256 numeric field. */
function parseNumeric(block: Uint8Array, offset: number, width: number, field: string): number {
  if (block[offset] & 0x80) {
    if (block[offset] === 0xff) throw new ParseError(`negative ${field} in tar header`);
    let value = block[offset] & 0x7f;
    for (let i = 1; i < width; i++) {
      value = value * 256 + block[offset + i];
      if (!Number.isSafeInteger(value)) throw new ParseError(`${field} too large in tar header`);
    }
    return value;
  }
  let value = 0;
  let i = offset;
  const end = offset + width;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new ParseError(`invalid octal ${field} in tar header`);
    value = value * 8 + (c - 0x30);
    digits++;
  }
  for (; i < end; i++) {
    if (block[i] !== 0 && block[i] !== 0x20) {
      throw new ParseError(`invalid octal ${field} in tar header`);
    }
  }
  return digits === 0 ? 0 : value;
}

/**
 * Parse PAX extended header records. Unknown keys are returned too; callers
 * pick what they apply.
 */
export function parsePaxRecords(bytes: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < bytes.byteLength) {
    if (bytes[pos] === 0) break;
    let space = pos;
    while (space < bytes.byteLength && bytes[space] !== 0x20) space++;
    const lengthText = decoder.decode(bytes.subarray(pos, space));
    const length = Number(lengthText);
    if (!/^\d+$/.test(lengthText) || length <= 0 || pos + length > bytes.byteLength) {
      throw new ParseError("invalid PAX record length");
    }
    const record = bytes.subarray(space + 1, pos + length);
    if (record[record.byteLength - 1] !== 0x0a) {
      throw new ParseError("PAX record not newline-terminated");
    }
    const text = decoder.decode(record.subarray(0, record.byteLength - 1));
    const eq = text.indexOf("=");
    if (eq <= 0) throw new ParseError("invalid PAX record");
    records.set(text.slice(0, eq), text.slice(eq + 1));
    pos += length;
  }
  return records;
}
