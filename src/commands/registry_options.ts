/**
 * The options every command that talks to registries shares: credentials,
 * TLS and plain HTTP. Adding them through one function keeps their names
 * and help the same everywhere.
 *
 * @module
 */

import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import type { RegistryOptions } from "../registry/client.ts";
import type { Ui } from "../ui/output.ts";
import { startDeadline } from "./deadline.ts";

/** The parsed registry options of a command. */
export interface RegistryFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  plainHttp?: boolean;
  caFile?: string;
  timeout?: string;
}

/** Add the registry options to `command`. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option(
      "-u, --username <name>",
      "registry user name; the password comes from --password-stdin, ARTIFACT_CLI_PASSWORD " +
        "or -w",
    )
    .option("--password-stdin", "read the registry password (or token) from standard input")
    .option(
      "-w, --password <password>",
      "registry password (shows in the process list: prefer --password-stdin or " +
        "ARTIFACT_CLI_PASSWORD)",
    )
    .option("--ca-file <file>", "PEM file of CA certificates to trust for the registry")
    .option("--insecure", "accept any TLS certificate from the registry (use only for testing)")
    .option(
      "--plain-http",
      "talk plain HTTP to the registry (default for localhost and 127.0.0.1)",
    )
    .option(
      "-t, --timeout <duration>",
      "give up the whole operation after DURATION (30s, 5m, 1h): one line, exit 1",
    );
}

/** Turn parsed flags into RegistryOptions, reading the password from stdin when asked. */
export async function registryOptions(flags: RegistryFlags, ui: Ui): Promise<RegistryOptions> {
  // Parsed (and started) first: a bad duration is a usage error before anything else runs.
  if (flags.timeout !== undefined) startDeadline(flags.timeout);
  if (flags.insecure && flags.plainHttp) {
    throw new UsageError("--insecure and --plain-http exclude each other");
  }
  if (flags.passwordStdin && !flags.username) {
    throw new UsageError("--password-stdin needs --username");
  }
  if (flags.password !== undefined && !flags.username) {
    throw new UsageError("--password needs --username");
  }
  if (flags.password !== undefined && flags.passwordStdin) {
    throw new UsageError("--password and --password-stdin exclude each other");
  }
  const envPassword = Deno.env.get("ARTIFACT_CLI_PASSWORD");
  if (flags.username && !flags.passwordStdin && flags.password === undefined && !envPassword) {
    throw new UsageError(
      "--username needs a password: --password-stdin, ARTIFACT_CLI_PASSWORD or --password",
    );
  }
  if (flags.password !== undefined) {
    // As docker warns: the command line is visible to every user of the machine.
    ui.warn(
      "--password shows in the process list; prefer --password-stdin or ARTIFACT_CLI_PASSWORD",
    );
  }
  const options: RegistryOptions = {
    plainHttp: flags.plainHttp,
    insecure: flags.insecure,
    caFile: flags.caFile,
    log: ui.options.debug ? (line) => ui.debug(line) : undefined,
  };
  if (flags.username) {
    const password = flags.passwordStdin
      ? await readPasswordFromStdin()
      : flags.password ?? envPassword!;
    if (!password) throw new UsageError("--password: the password is empty");
    options.credentials = { username: flags.username, password };
  }
  return options;
}

let passwordFromStdin: Promise<string> | undefined;

/** stdin up to EOF, without the final newline; read once per process. */
export function readPasswordFromStdin(): Promise<string> {
  return passwordFromStdin ??= (async () => {
    const text = await new Response(Deno.stdin.readable).text();
    const password = text.replace(/\r?\n$/, "");
    if (!password) throw new UsageError("--password-stdin: standard input is empty");
    return password;
  })();
}
