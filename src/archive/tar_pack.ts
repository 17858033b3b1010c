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
import type { TreeEntry } from "./tree_list.ts";

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
  entries: Iterable<TreeEntry>,
  options: PackOptions = {},
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const pool = options.buffers?.size === PACK_CHUNK ? options.buffers : undefined;
  const fresh = () => pool ? pool.take() : new Uint8Array(PACK_CHUNK);
  let buffer = fresh();
  let fill = 0;
  // Small files are read here, then copied into the output: one buffer for all of them.
  const scratch = new Uint8Array(SMALL_FILE + 1);

  for (const entry of entries) {
    const header = encodeHeader({
      name: entry.type === "directory" ? `${entry.path}/` : entry.path,
      type: entry.type,
      mode: entry.mode,
      size: entry.type === "file" ? entry.size : 0,
      linkname: entry.linkTarget,
    });
    for (const piece of [header, smallContent(entry, scratch)]) {
      let offset = 0;
      while (offset < piece.byteLength) {
        const take = Math.min(piece.byteLength - offset, PACK_CHUNK - fill);
        buffer.set(piece.subarray(offset, offset + take), fill);
        fill += take;
        offset += take;
        if (fill === PACK_CHUNK) {
          yield buffer;
          buffer = fresh();
          fill = 0;
        }
      }
    }
    if (entry.type !== "file" || entry.size === 0) continue;

    if (entry.size > SMALL_FILE) {
      const file = openForPack(entry);
      try {
        let remaining = entry.size;
        while (remaining > 0) {
          const want = Math.min(remaining, PACK_CHUNK - fill);
          const n = file.readSync(buffer.subarray(fill, fill + want));
          if (n === null || n === 0) throw changed(entry.source, "shrank");
          fill += n;
          remaining -= n;
          if (fill === PACK_CHUNK) {
            yield buffer;
            buffer = fresh();
            fill = 0;
          }
        }
        // One extra byte read tells whether the file grew after it was listed.
        if (file.readSync(new Uint8Array(1))) throw changed(entry.source, "grew");
      } finally {
        file.close();
      }
    }
    const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    // Buffers are zero-filled when taken, so padding only advances `fill`.
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

const EMPTY = new Uint8Array(0);

/** Files up to this size are read whole, in one call (open, read, close). */
const SMALL_FILE = 64 * 1024;

/**
 * The content of a small regular file, read in one call: per-file cost is
 * what dominates trees of many small files. Empty for everything else.
 */
function smallContent(entry: TreeEntry, scratch: Uint8Array): Uint8Array {
  if (entry.type !== "file" || entry.size === 0 || entry.size > SMALL_FILE) return EMPTY;
  const file = openForPack(entry);
  try {
    // One byte more than listed tells a file that grew from one that did not.
    const data = scratch.subarray(0, entry.size + 1);
    let fill = 0;
    while (fill < data.byteLength) {
      const n = file.readSync(data.subarray(fill));
      if (n === null || n === 0) break;
      fill += n;
    }
    if (fill !== entry.size) throw changed(entry.source, fill < entry.size ? "shrank" : "grew");
    return data.subarray(0, entry.size);
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactError(`cannot read ${entry.source}: ${(e as Error).message}`, { cause: e });
  } finally {
    file.close();
  }
}

function changed(path: string, how: "shrank" | "grew"): ArtifactError {
  return new ArtifactError(`${path} ${how} while it was being read; push again`);
}

/**
 * Open a listed file and check that it is still the file the walk listed:
 * opening follows links, so a name swapped for a link to a file outside the
 * tree (even one of the same size) is caught by its device and inode.
 */
function openForPack(entry: TreeEntry): Deno.FsFile {
  const path = entry.source;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    throw new ArtifactError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let info: Deno.FileInfo;
  try {
    info = file.statSync();
  } catch (e) {
    file.close();
    throw new ArtifactError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const expected = entry.identity;
  if (!info.isFile || (expected && (info.dev !== expected.dev || info.ino !== expected.ino))) {
    file.close();
    throw new ArtifactError(
      `${path} was replaced while it was being pushed (it is no longer the file that was listed); push again`,
    );
  }
  return file;
}
