/**
 * Interrupts (SIGINT, SIGTERM): temporary state a command registers is
 * removed before the process exits 130 or 143 with one line, so an
 * interrupted push or pull leaves nothing behind in the temp dir or next to
 * the output. (`kill -9` cannot be caught: the next run removes what a dead
 * process left, see the staging and owner-record cleanups.)
 *
 * @module
 */

const registered = new Set<string>();
let installed = false;

/**
 * Remove `path` (a file or directory tree) if the process is interrupted
 * before the returned function is called.
 *
 * @example
 * ```ts
 * import { removeOnInterrupt } from "./interrupt.ts";
 * const dir = await Deno.makeTempDir();
 * const release = removeOnInterrupt(dir);
 * release();
 * await Deno.remove(dir);
 * ```
 */
export function removeOnInterrupt(path: string): () => void {
  registered.add(path);
  return () => void registered.delete(path);
}

/** Install the SIGINT/SIGTERM handlers once (the CLI's entry point calls this). */
export function installInterruptHandlers(): void {
  if (installed || Deno.build.os === "windows") return;
  installed = true;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    Deno.addSignalListener(signal, () => {
      removeRegisteredTemporaries();
      console.error(`error: interrupted (${signal}); temporary files removed`);
      Deno.exit(code);
    });
  }
}

/**
 * Remove everything registered with {@link removeOnInterrupt}, newest first.
 * For any exit that skips the normal cleanup: a signal, an expired `--timeout`.
 */
export function removeRegisteredTemporaries(): void {
  for (const path of [...registered].reverse()) {
    removeSync(path);
    registered.delete(path);
  }
}

function removeSync(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) return;
    try {
      makeWritable(path);
      Deno.removeSync(path, { recursive: true });
    } catch { /* best effort: the next run removes what is left */ }
  }
}

function makeWritable(path: string): void {
  const info = Deno.lstatSync(path);
  if (!info.isDirectory) return;
  Deno.chmodSync(path, 0o700);
  for (const entry of Deno.readDirSync(path)) {
    if (entry.isDirectory) makeWritable(`${path}/${entry.name}`);
  }
}
