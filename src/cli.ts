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
import { referrersCommand } from "./commands/referrers.ts";
import { versionCommand } from "./commands/version.ts";
import { completionCommand } from "./commands/completion.ts";
import { syncCommand } from "./commands/sync.ts";
import { loginCommand, logoutCommand } from "./commands/login.ts";
import { describeCommand, manifestCommand } from "./commands/describe.ts";
import { configureHelp } from "./commands/help.ts";
import { cacheCommand } from "./commands/cache.ts";

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
  program.addCommand(referrersCommand());
  program.addCommand(syncCommand());
  program.addCommand(loginCommand());
  program.addCommand(logoutCommand());
  program.addCommand(describeCommand());
  program.addCommand(manifestCommand());
  program.addCommand(cacheCommand());
  program.addCommand(versionCommand());
  program.addCommand(completionCommand(() => program));
  for (const command of program.commands) command.exitOverride();
  configureHelp(program);
  return program;
}

/**
 * Names peers (crane, oras, docker, imgpkg) use for what we call otherwise,
 * so `artifact-cli ls` says where to go instead of only "unknown command".
 */
const PEER_COMMANDS: Record<string, string> = {
  ls: "tags",
  list: "tags",
  inspect: "describe",
  info: "describe",
  fetch: "manifest",
  get: "pull",
  upload: "push",
  mirror: "copy",
  discover: "referrers",
  attach: "push --subject",
};

/** Commander's messages as one line, with our suggestion for a peer's command name. */
function oneLineUsage(text: string): string {
  let line = text.trim().replace(/\s*\n\s*/g, " ");
  const unknown = /unknown command '([^']*)'/.exec(line);
  const instead = unknown && Object.hasOwn(PEER_COMMANDS, unknown[1])
    ? PEER_COMMANDS[unknown[1]]
    : undefined;
  if (instead && !/Did you mean/.test(line)) line += ` (did you mean ${instead}?)`;
  return `${line}\n`;
}

/** Route commander's output through `write`, remembering whether an error was printed. */
function captureOutput(command: Command, state: { printed: boolean }): void {
  command.configureOutput({
    writeErr: (text) => writeAll(Deno.stderr, text),
    outputError: (text, write) => {
      state.printed = true;
      write(oneLineUsage(text));
    },
  });
  for (const sub of command.commands) captureOutput(sub, state);
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.byteLength) written += stream.writeSync(bytes.subarray(written));
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
  const output = { printed: false };
  captureOutput(program, output);
  let debug = args.includes("--debug");
  try {
    const childCode = await rerunInsecure(args);
    if (childCode !== undefined) return childCode;
    await program.parseAsync(args, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return ExitCode.ok;
      }
      // Commander prints what it finds while parsing; an InvalidArgumentError
      // thrown by a command's own code reaches us unprinted.
      if (!output.printed) console.error(`error: ${error.message.replace(/^error: /, "")}`);
      return ExitCode.usage;
    }
    debug ||= !!program.opts().debug;
    const { line, exitCode } = describeError(error, debug);
    console.error(line);
    return exitCode;
  }
}
