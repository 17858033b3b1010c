/**
 * Turning any thrown value into one clear line and an exit code.
 *
 * @module
 */

import { ArtifactError, ExitCode } from "../errors.ts";

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
  if (error instanceof Deno.errors.PermissionDenied) {
    return {
      line: `error: permission denied: ${oneLine(error.message)}`,
      exitCode: ExitCode.error,
    };
  }
  if (error instanceof Deno.errors.NotFound) {
    return { line: `error: ${oneLine(error.message)}`, exitCode: ExitCode.notFound };
  }
  const message = error instanceof Error ? error.message : String(error);
  const line = `error: ${oneLine(message)}`;
  const stack = error instanceof Error ? error.stack : undefined;
  return { line: debug && stack ? `${line}\n${stack}` : line, exitCode: ExitCode.error };
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, "; ").trim();
}
