/**
 * The Ui of a command, built from its options and the program's global ones
 * (`--format`, `--verbose`, `--debug`, `--quiet`).
 *
 * @module
 */

import type { Command } from "commander";
import { type OutputFormat, Ui } from "./output.ts";

/** Global options as commander parses them. */
interface GlobalOptions {
  format: OutputFormat;
  verbose: boolean;
  debug: boolean;
  quiet: boolean;
}

/**
 * Build the Ui for a command from its (and the program's) options.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { uiFor } from "./ui_for.ts";
 * const program = new Command().option("--format <f>", "", "json");
 * console.assert(uiFor(program).json);
 * ```
 */
export function uiFor(command: Command): Ui {
  const opts = command.optsWithGlobals() as GlobalOptions;
  return new Ui({
    format: opts.format,
    verbose: !!opts.verbose,
    debug: !!opts.debug,
    quiet: !!opts.quiet,
  });
}
