/**
 * Test support: writing arbitrary (including hostile) tar archives byte by
 * byte, independently of the production encoder.
 */

import zlib from "node:zlib";

/** One raw entry. `type` is the typeflag character. */
export interface RawEntry {
  name: string;
  type?: string;
  mode?: number;
  content?: string | Uint8Array;
  linkname?: string;
  /** Extra PAX records written before the entry. */
  pax?: Record<string, string>;
  /** Declared size, when it should differ from the content's. */
  size?: number;
}

const enc = new TextEncoder();

function octal(block: Uint8Array, offset: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, "0");
  block.set(enc.encode(text), offset);
  block[offset + width - 1] = 0;
}

function header(
  name: string,
  type: string,
  mode: number,
  size: number,
  linkname: string,
): Uint8Array {
  const block = new Uint8Array(512);
  block.set(enc.encode(name).subarray(0, 100), 0);
  octal(block, 100, 8, mode);
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  octal(block, 124, 12, size);
  octal(block, 136, 12, 0);
  block[156] = type.charCodeAt(0);
  block.set(enc.encode(linkname).subarray(0, 100), 157);
  block.set(enc.encode("ustar\u000000"), 257);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  octal(block, 148, 7, sum);
  block[155] = 0x20;
  return block;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.byteLength / 512) * 512);
  out.set(data);
  return out;
}

/** Build an uncompressed tar from raw entries (with end-of-archive blocks). */
export function buildTar(entries: RawEntry[], options: { end?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (e.pax) {
      const records = Object.entries(e.pax).map(([k, v]) => {
        const body = ` ${k}=${v}\n`;
        let len = enc.encode(body).byteLength + 1;
        while (String(len).length + enc.encode(body).byteLength !== len) len++;
        return `${len}${body}`;
      }).join("");
      const bytes = enc.encode(records);
      parts.push(header("PaxHeaders/x", "x", 0o644, bytes.byteLength, ""), padded(bytes));
    }
    const content = typeof e.content === "string"
      ? enc.encode(e.content)
      : e.content ?? new Uint8Array();
    const type = e.type ?? "0";
    const mode = e.mode ?? (type === "5" ? 0o755 : 0o644);
    parts.push(header(e.name, type, mode, e.size ?? content.byteLength, e.linkname ?? ""));
    if (content.byteLength) parts.push(padded(content));
  }
  if (options.end !== false) parts.push(new Uint8Array(1024));
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
export function buildTarGz(entries: RawEntry[]): Uint8Array {
  return zlib.gzipSync(buildTar(entries));
}
