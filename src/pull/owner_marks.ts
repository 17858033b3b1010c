/**
 * Owner records: how a pull recognises its own temporary state.
 *
 * Before a pull creates any temporary directory it writes a small record,
 * `PREFIX.artifact-cli-owner-ID`, in the directory that will hold it. A
 * later pull touches a temporary entry only when all of this holds: the
 * entry is a real directory (lstat, never through a link) owned by the
 * current user, the process named by ID is gone, and the record with the
 * same ID is a small regular file we own whose content we wrote. A name
 * alone — which an image or another user could make — is never enough.
 *
 * @module
 */

import { join } from "node:path";
import { removeOnInterrupt } from "../interrupt.ts";

const OWNER_MARK = ".artifact-cli-owner-";
const RECORD_LIMIT = 4096;
const TOOL = "artifact-cli";

interface OwnerRecord {
  tool: string;
  id: string;
  pid: number;
}

/**
 * The record of one pull's temporary state in `dir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OwnerMark } from "./owner_marks.ts";
 * const dir = await Deno.makeTempDir();
 * const mark = await OwnerMark.create(dir, ".out", "1-0123abcd");
 * assert.equal(await OwnerMark.verify(dir, ".out", "1-0123abcd"), true);
 * await mark.remove();
 * assert.equal(await OwnerMark.verify(dir, ".out", "1-0123abcd"), false);
 * ```
 */
export class OwnerMark {
  private constructor(readonly path: string, readonly release: () => void = () => {}) {}

  /** Write the record (never through an existing name: `createNew`). */
  static async create(dir: string, prefix: string, id: string): Promise<OwnerMark> {
    const path = markPath(dir, prefix, id);
    const record: OwnerRecord = { tool: TOOL, id, pid: Deno.pid };
    await Deno.writeTextFile(path, JSON.stringify(record) + "\n", { createNew: true, mode: 0o600 });
    return new OwnerMark(path, removeOnInterrupt(path));
  }

  /** True when a record we wrote for `id` is in `dir`. */
  static async verify(dir: string, prefix: string, id: string): Promise<boolean> {
    const path = markPath(dir, prefix, id);
    const info = await Deno.lstat(path).catch(() => undefined);
    if (!info?.isFile || !ownedByUs(info) || info.size > RECORD_LIMIT) return false;
    let file: Deno.FsFile | undefined;
    try {
      // The fstat must be the file the lstat saw: a swap in between is not ours.
      file = await Deno.open(path, { read: true });
      const opened = await file.stat();
      if (!opened.isFile || opened.ino !== info.ino || opened.dev !== info.dev) return false;
      const buffer = new Uint8Array(RECORD_LIMIT + 1);
      const n = (await file.read(buffer)) ?? 0;
      const record = JSON.parse(new TextDecoder().decode(buffer.subarray(0, n))) as OwnerRecord;
      return record?.tool === TOOL && record.id === id && record.pid === Number(id.split("-")[0]);
    } catch {
      return false;
    } finally {
      file?.close();
    }
  }

  /** Remove a record once its state is gone (a missing record is fine). */
  static async removeFor(dir: string, prefix: string, id: string): Promise<void> {
    await Deno.remove(markPath(dir, prefix, id)).catch(() => {});
  }

  /**
   * From here on (the renames) an interrupt must leave the record: the next
   * pull needs it to restore or finish what the renames began.
   */
  keepOnInterrupt(): void {
    this.release();
  }

  async remove(): Promise<void> {
    this.release();
    await Deno.remove(this.path).catch(() => {});
  }
}

/** True for the lstat of a real directory owned by the current user. */
export async function isOurDirectory(path: string): Promise<boolean> {
  const info = await Deno.lstat(path).catch(() => undefined);
  return !!info?.isDirectory && ownedByUs(info);
}

function ownedByUs(info: Deno.FileInfo): boolean {
  const uid = Deno.uid();
  return uid === null || info.uid === null || info.uid === uid;
}

function markPath(dir: string, prefix: string, id: string): string {
  return join(dir, `${prefix}${OWNER_MARK}${id}`);
}

/** The owner-record name pattern, for listings that must skip it. */
export const OWNER_MARK_INFIX = OWNER_MARK;
