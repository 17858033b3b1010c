/**
 * Deterministic tar packing: the same entries with the same contents always
 * give the same bytes. Headers carry no owner, group or time; entries come in
 * the order of the list (collectTree sorts it); directories end with `/`.
 *
 * @module
 */

import { ArtifactError } from "../errors.ts";
import type { BufferPool } from "./buffer_pool.ts";
import { BLOCK, encodeHeader } from "./tar_header.ts";
import type { TreeEntry } from "./walk.ts";

/** Size of the chunks the packer yields. */
export const PACK_CHUNK = 1024 * 1024;

/** Options for {@link packTar}. */
export interface PackOptions {
  /** Recycled zero-filled buffers of {@link PACK_CHUNK} bytes to fill. */
  buffers?: BufferPool;
}

/**
 * Yield the tar archive of `entries` in chunks of {@link PACK_CHUNK} bytes
 * (the last may be shorter). Files are read synchronously straight into the
 * output buffer, which is cheap for many small files and streams big ones.
 * Each chunk is a fresh (or recycled) buffer that the packer never touches
 * again after yielding it.
 *
 * @example
 * ```ts
 * import { collectTree } from "./walk.ts";
 * import { packTar } from "./tar_pack.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * let size = 0;
 * for await (const chunk of packTar(collectTree([dir]))) size += chunk.byteLength;
 * console.assert(size === 512 * 4); // header, data block, two end blocks
 * ```
 */
export async function* packTar(
  entries: readonly TreeEntry[],
  options: PackOptions = {},
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const pool = options.buffers?.size === PACK_CHUNK ? options.buffers : undefined;
  const fresh = () => pool ? pool.take() : new Uint8Array(PACK_CHUNK);
  let buffer = fresh();
  let fill = 0;

  for (const entry of entries) {
    const header = encodeHeader({
      name: entry.type === "directory" ? `${entry.path}/` : entry.path,
      type: entry.type,
      mode: entry.mode,
      size: entry.type === "file" ? entry.size : 0,
      linkname: entry.linkTarget,
    });
    let offset = 0;
    while (offset < header.byteLength) {
      const take = Math.min(header.byteLength - offset, PACK_CHUNK - fill);
      buffer.set(header.subarray(offset, offset + take), fill);
      fill += take;
      offset += take;
      if (fill === PACK_CHUNK) {
        yield buffer;
        buffer = fresh();
        fill = 0;
      }
    }
    if (entry.type !== "file" || entry.size === 0) continue;

    const file = openForPack(entry.source);
    try {
      let remaining = entry.size;
      while (remaining > 0) {
        const want = Math.min(remaining, PACK_CHUNK - fill);
        const n = file.readSync(buffer.subarray(fill, fill + want));
        if (n === null || n === 0) {
          throw new ArtifactError(`${entry.source} shrank while it was being read; push again`);
        }
        fill += n;
        remaining -= n;
        if (fill === PACK_CHUNK) {
          yield buffer;
          buffer = fresh();
          fill = 0;
        }
      }
      // One extra byte read tells whether the file grew after it was listed.
      if (file.readSync(new Uint8Array(1))) {
        throw new ArtifactError(`${entry.source} grew while it was being read; push again`);
      }
    } finally {
      file.close();
    }
    const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    // The buffer is zero-filled when allocated, so padding only advances `fill`.
    const padHere = Math.min(pad, PACK_CHUNK - fill);
    fill += padHere;
    if (fill === PACK_CHUNK) {
      yield buffer;
      buffer = fresh();
      fill = pad - padHere;
    }
  }
  // End of archive: two zero blocks.
  let end = 2 * BLOCK;
  while (end > 0) {
    const take = Math.min(end, PACK_CHUNK - fill);
    fill += take;
    end -= take;
    if (fill === PACK_CHUNK) {
      yield buffer;
      buffer = fresh();
      fill = 0;
    }
  }
  if (fill > 0) yield buffer.subarray(0, fill);
}

function openForPack(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { read: true });
  } catch (e) {
    throw new ArtifactError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}
