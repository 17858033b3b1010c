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

/** The parsed registry options of a command. */
export interface RegistryFlags {
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  plainHttp?: boolean;
  caFile?: string;
}

/** Add the registry options to `command`. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option(
      "-u, --username <name>",
      "registry user name (the password is read with --password-stdin)",
    )
    .option("--password-stdin", "read the registry password (or token) from standard input")
    .option("--ca-file <file>", "PEM file of CA certificates to trust for the registry")
    .option("--insecure", "accept any TLS certificate from the registry (use only for testing)")
    .option(
      "--plain-http",
      "talk plain HTTP to the registry (default for localhost and 127.0.0.1)",
    );
}

/** Turn parsed flags into RegistryOptions, reading the password from stdin when asked. */
export async function registryOptions(flags: RegistryFlags, ui: Ui): Promise<RegistryOptions> {
  if (flags.insecure && flags.plainHttp) {
    throw new UsageError("--insecure and --plain-http exclude each other");
  }
  if (flags.passwordStdin && !flags.username) {
    throw new UsageError("--password-stdin needs --username");
  }
  if (flags.username && !flags.passwordStdin) {
    throw new UsageError(
      "--username needs --password-stdin (passwords are never taken as arguments)",
    );
  }
  const options: RegistryOptions = {
    plainHttp: flags.plainHttp,
    insecure: flags.insecure,
    caFile: flags.caFile,
    log: ui.options.debug ? (line) => ui.debug(line) : undefined,
  };
  if (flags.username) {
    options.credentials = { username: flags.username, password: await readPasswordFromStdin() };
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
