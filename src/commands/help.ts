/**
 * How `--help` reads: 80 columns, a one-line summary per command in the
 * command list, global options in every command's help, defaults and
 * required options marked, and 2–4 examples after each command's options.
 *
 * @module
 */

import type { Command, Help, Option } from "commander";

/** Examples shown after each command's options, by command name. */
export const EXAMPLES: Record<string, string[]> = {
  push: [
    "artifact-cli push ghcr.io/me/lab:1.0 ./workshop",
    "artifact-cli push ghcr.io/me/lab:1.0 -f ./workshop -p linux/amd64,linux/arm64",
    "artifact-cli push oci:./store:v1 ./workshop --exclude '*.log' -a team=docs",
    "artifact-cli push oci:./s:sbom sbom.json --subject oci:./s:v1",
  ],
  pull: [
    "artifact-cli pull ghcr.io/me/lab:1.0 -o ./workshop",
    "artifact-cli pull ghcr.io/me/lab:1.0 -o ./workshop -p linux/arm64",
    "artifact-cli pull oci:./store:v1 -o ./out --format json",
  ],
  copy: [
    "artifact-cli copy ghcr.io/me/lab:1.0 oci:./usb-disk/store:1.0",
    "artifact-cli copy oci:./usb-disk/store:1.0 registry.internal:5000/me/lab:1.0",
    "artifact-cli copy ghcr.io/me/lab:1.0 oci:./usb-disk/store:1.0 --referrers",
  ],
  tags: [
    "artifact-cli tags ghcr.io/me/lab",
    "artifact-cli tags oci:./store --format json",
  ],
  referrers: [
    "artifact-cli referrers ghcr.io/me/lab:1.0",
    "artifact-cli referrers oci:./s:v1 --artifact-type application/spdx+json",
    "artifact-cli referrers oci:./store:v1 --depth 2",
  ],
  tag: [
    "artifact-cli tag ghcr.io/me/lab:1.0 latest stable",
    "artifact-cli tag oci:./store@sha256:... v2",
  ],
  sync: [
    "artifact-cli sync -c sync.yml",
    "artifact-cli sync -c sync.yml -o ./workshops --lock-file sync.lock",
    "artifact-cli sync -c sync.yml --lock-file sync.lock --update-lock",
  ],
  login: [
    'echo "$TOKEN" | artifact-cli login ghcr.io -u me --password-stdin',
    "artifact-cli login localhost:5000",
  ],
  logout: [
    "artifact-cli logout ghcr.io",
    "artifact-cli logout localhost:5000",
  ],
  describe: [
    "artifact-cli describe ghcr.io/me/lab:1.0",
    "artifact-cli describe ghcr.io/me/lab:1.0 -p linux/arm64 --format json",
  ],
  manifest: [
    "artifact-cli manifest ghcr.io/me/lab:1.0",
    "artifact-cli manifest ghcr.io/me/lab:1.0 -p linux/arm64 --format json",
  ],
  cache: [
    "artifact-cli cache info",
    "artifact-cli cache prune",
    "artifact-cli cache prune --all",
    "ARTIFACT_CLI_CACHE_DIR=off artifact-cli pull ghcr.io/me/lab:1.0 -o ./workshop",
  ],
  version: [
    "artifact-cli version",
    "artifact-cli version --format json",
  ],
  completion: [
    "source <(artifact-cli completion bash)",
    "artifact-cli completion zsh > ~/.zfunc/_artifact-cli",
    "artifact-cli completion fish > ~/.config/fish/completions/artifact-cli.fish",
  ],
};

/** One line per command for the command list (its description is in its own help). */
export const SUMMARIES: Record<string, string> = {
  push: "push directories and files as an image",
  pull: "pull an image or artifact into a directory",
  copy: "copy between registries and layouts",
  tags: "list the tags of a repository or layout",
  tag: "add tags to what a reference points at",
  sync: "pull the artifacts a config file lists",
  login: "check and store credentials for a registry",
  logout: "remove stored credentials for a registry",
  describe: "show what a reference holds, and why",
  manifest: "print a manifest exactly as stored",
  cache: "show or trim the local content cache",
  version: "print the version",
  completion: "print a shell completion script",
};

/** The width help is laid out for, whatever the terminal. */
export const HELP_WIDTH = 80;

/** Choices, a default worth knowing (not `false`), and whether the option is required. */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`one of: ${option.argChoices.join(", ")}`);
  const value = option.defaultValue;
  if (option.defaultValueDescription) extra.push(`default: ${option.defaultValueDescription}`);
  else if (value !== undefined && value !== false && !(Array.isArray(value) && !value.length)) {
    extra.push(`default: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  if (option.mandatory) extra.push("required");
  return extra.length ? `${option.description} (${extra.join("; ")})` : option.description;
}

/**
 * Apply the layout to `program` and all its commands, and add each
 * command's examples.
 */
export function configureHelp(program: Command): void {
  const settings: Partial<Help> = {
    helpWidth: HELP_WIDTH,
    showGlobalOptions: true,
    sortSubcommands: false,
    optionDescription,
    subcommandDescription: (command: Command) => command.summary() || command.description(),
    // "[options]" in every line of the command list only widens it past 80 columns.
    subcommandTerm: (command: Command) =>
      [
        [command.name(), ...command.aliases()].join("|"),
        ...command.registeredArguments.map((a) => {
          const name = `${a.name()}${a.variadic ? "..." : ""}`;
          return a.required ? `<${name}>` : `[${name}]`;
        }),
      ].join(" "),
  };
  const apply = (command: Command) => {
    command.configureHelp(settings);
    if (!command.summary() && SUMMARIES[command.name()]) command.summary(SUMMARIES[command.name()]);
    const examples = EXAMPLES[command.name()];
    if (examples) {
      command.addHelpText(
        "after",
        `\nExamples:\n${examples.map((e) => `  ${e}`).join("\n")}\n`,
      );
    }
    for (const sub of command.commands) apply(sub);
  };
  apply(program);
}
