/**
 * The command line: global options, the subcommands, and mapping of every
 * outcome to a documented exit code.
 *
 * @module
 */

import { Command, CommanderError, Option } from "commander";
import { ExitCode } from "./errors.ts";
import { describeError } from "./ui/errors.ts";
import { rerunInsecure } from "./insecure.ts";
import { VERSION } from "./version.ts";
import { pushCommand } from "./commands/push.ts";
import { pullCommand } from "./commands/pull.ts";
import { copyCommand } from "./commands/copy.ts";
import { tagCommand, tagsCommand } from "./commands/tags.ts";
import { versionCommand } from "./commands/version.ts";
import { completionCommand } from "./commands/completion.ts";
import { syncCommand } from "./commands/sync.ts";
import { loginCommand, logoutCommand } from "./commands/login.ts";
import { describeCommand, manifestCommand } from "./commands/describe.ts";

/** The commander program, without running it. */
export function buildProgram(): Command {
  const program = new Command("artifact-cli")
    .description("Push directories and files to OCI registries and pull them back.")
    .version(VERSION, "--version", "print the version")
    .addOption(
      new Option("--format <format>", "result format").choices(["text", "json"]).default("text"),
    )
    .option("-v, --verbose", "say what is done step by step (on stderr)", false)
    .option("--debug", "print diagnostics (HTTP requests, stack traces)", false)
    .option("-q, --quiet", "print nothing but the result", false)
    .showSuggestionAfterError(true)
    .exitOverride();
  program.addCommand(pushCommand());
  program.addCommand(pullCommand());
  program.addCommand(copyCommand());
  program.addCommand(tagsCommand());
  program.addCommand(tagCommand());
  program.addCommand(syncCommand());
  program.addCommand(loginCommand());
  program.addCommand(logoutCommand());
  program.addCommand(describeCommand());
  program.addCommand(manifestCommand());
  program.addCommand(versionCommand());
  program.addCommand(completionCommand(() => program));
  for (const command of program.commands) command.exitOverride();
  return program;
}

/**
 * Run the CLI with `args` and return the exit code; never throws.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runCli(["pull", "oci:./store:v1", "-o", "out"]));
 * ```
 */
export async function runCli(args: string[]): Promise<number> {
  const program = buildProgram();
  let debug = args.includes("--debug");
  try {
    const childCode = await rerunInsecure(args);
    if (childCode !== undefined) return childCode;
    await program.parseAsync(args, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its one-line message (or the help text).
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return ExitCode.ok;
      }
      return ExitCode.usage;
    }
    debug ||= !!program.opts().debug;
    const { line, exitCode } = describeError(error, debug);
    console.error(line);
    return exitCode;
  }
}
