/**
 * Staging directories of pushes: created under the temp dir as
 * `artifact-cli-push-PID-RANDOM`, removed when the push ends, when it is
 * interrupted (SIGINT, SIGTERM), or — after a `kill -9` — by the next push
 * once the owner pid is gone.
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeOnInterrupt } from "../interrupt.ts";
import { pidOf, processAlive, removeTree, uniqueSuffix } from "../pull/remove_tree.ts";

const PREFIX = "artifact-cli-push-";
const NAME = /^artifact-cli-push-\d+-[0-9a-f]{8}$/;

/** A staging directory that removes itself when disposed. */
export interface StagingDir extends AsyncDisposable {
  path: string;
}

/**
 * Create a private staging directory, first removing those of dead pushes.
 *
 * @example
 * ```ts
 * import { createStagingDir } from "./staging.ts";
 * await using staging = await createStagingDir();
 * await Deno.writeTextFile(`${staging.path}/layer`, "x");
 * ```
 */
export async function createStagingDir(): Promise<StagingDir> {
  const base = Deno.env.get("TMPDIR") || tmpdir();
  await removeStale(base);
  const path = join(base, `${PREFIX}${uniqueSuffix()}`);
  await Deno.mkdir(path, { mode: 0o700 });
  const release = removeOnInterrupt(path);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await removeTree(path).catch(() => {});
      release();
    },
  };
}

/** Remove staging directories of processes that are gone: real directories we own only. */
async function removeStale(base: string): Promise<void> {
  const uid = Deno.uid();
  try {
    for await (const entry of Deno.readDir(base)) {
      // Never our own pid: this process may run pushes concurrently (a library user).
      const pid = pidOf(entry.name);
      if (!NAME.test(entry.name) || pid === undefined || pid === Deno.pid || processAlive(pid)) {
        continue;
      }
      const path = join(base, entry.name);
      const info = await Deno.lstat(path).catch(() => undefined);
      if (!info?.isDirectory || (uid !== null && info.uid !== uid)) continue;
      await removeTree(path).catch(() => {});
    }
  } catch { /* an unreadable temp dir: nothing to clean */ }
}
