/**
 * Turning any thrown value into one clear line and an exit code.
 *
 * @module
 */

import { ArtifactError, ExitCode } from "../errors.ts";
import { escapeControl } from "./escape.ts";

/**
 * The message and exit code for an error. Unknown errors (bugs, system
 * failures) exit 1; their stack is shown only with `debug`.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "../errors.ts";
 * import { describeError } from "./errors.ts";
 * const { exitCode } = describeError(new NotFoundError("no such tag"), false);
 * console.assert(exitCode === 3);
 * ```
 */
export function describeError(error: unknown, debug: boolean): { line: string; exitCode: number } {
  if (error instanceof ArtifactError) {
    const line = `error: ${oneLine(error.message)}`;
    return {
      line: debug && error.stack ? `${line}\n${error.stack}` : line,
      exitCode: error.exitCode,
    };
  }
  const system = error instanceof Error ? systemErrorLine(error.message) : undefined;
  if (system) {
    const line = `error: ${system}`;
    return {
      line: debug && error instanceof Error ? `${line}\n${error.stack}` : line,
      exitCode: 1,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const line = `error: ${oneLine(message)}`;
  const stack = error instanceof Error ? error.stack : undefined;
  return { line: debug && stack ? `${line}\n${stack}` : line, exitCode: ExitCode.error };
}

/** What the operations in Deno's system error messages were doing, in words. */
const OPERATIONS: Record<string, string> = {
  open: "open",
  stat: "read the attributes of",
  lstat: "read the attributes of",
  readdir: "list the directory",
  mkdir: "create the directory",
  remove: "remove",
  rename: "rename",
  realpath: "resolve",
  readlink: "read the link",
  symlink: "create the link",
  link: "create the hard link",
  copy: "copy",
  chmod: "change the mode of",
  chown: "change the owner of",
  utime: "set the times of",
  truncate: "truncate",
};

/**
 * `Not a directory (os error 20): readdir '/x'` → `cannot list the directory
 * /x: not a directory`. Undefined when the message is not of that form.
 */
export function systemErrorLine(message: string): string | undefined {
  const match = /^(.+?) \(os error \d+\)(?:: (\w+) '(.*?)'(?: -> '(.*)')?)?$/s.exec(message);
  if (!match) return undefined;
  const [, reason, op, path, to] = match;
  const what = reason.charAt(0).toLowerCase() + reason.slice(1);
  if (!op) return oneLine(what);
  const action = OPERATIONS[op] ?? op;
  return oneLine(`cannot ${action} ${path}${to ? ` to ${to}` : ""}: ${what}`);
}

/** One line, control characters escaped (messages quote untrusted names and bodies). */
function oneLine(message: string): string {
  return escapeControl(message.replace(/\s*\n\s*/g, "; ").trim());
}
