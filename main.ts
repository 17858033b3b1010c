#!/usr/bin/env -S deno run -A
/**
 * artifact-cli entry point: parse the command line, run the command, exit
 * with the documented code.
 *
 * @module
 */

import { runCli } from "./src/cli.ts";
import { installInterruptHandlers } from "./src/interrupt.ts";

if (import.meta.main) {
  installInterruptHandlers();
  Deno.exit(await runCli(Deno.args));
}
