/**
 * `version`: the tool's version and the runtime it runs on.
 *
 * @module
 */

import { Command } from "commander";
import { uiFor } from "../ui/ui_for.ts";
import { VERSION } from "../version.ts";

/** The `version` command. */
export function versionCommand(): Command {
  return new Command("version")
    .description("Print the version of artifact-cli and of the Deno runtime.")
    .action((_opts: unknown, command: Command) => {
      const ui = uiFor(command);
      ui.result(
        {
          version: VERSION,
          deno: Deno.version.deno,
          v8: Deno.version.v8,
          os: Deno.build.os,
          arch: Deno.build.arch,
        },
        `artifact-cli ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch})`,
      );
    });
}
