#!/usr/bin/env -S deno run -A
/**
 * artifact-cli entry point: parse the command line, run the command, exit
 * with the documented code.
 *
 * @module
 */

import { runCli } from "./src/cli.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
