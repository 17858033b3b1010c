/**
 * Help and completion as a new user meets them: examples in every command's
 * help, global options shown there too, 80 columns, defaults and required
 * options marked; completion of commands, aliases, values and shells.
 */

import assert from "node:assert/strict";
import { buildProgram } from "../src/cli.ts";
import { runCli, runTool } from "./support/cli.ts";

Deno.test("every command's help has 2 to 4 examples and the global options, within 80 columns", async () => {
  const program = buildProgram();
  const top = await runCli(["--help"]);
  for (const line of top.stdout.split("\n")) assert.ok(line.length <= 80, `top: ${line}`);
  for (const command of program.commands) {
    const help = (await runCli([command.name(), "--help"])).stdout;
    const examples = help.slice(help.indexOf("\nExamples:\n") + 1).split("\n").slice(1)
      .filter((l) => l.startsWith("  "));
    assert.ok(help.includes("\nExamples:\n"), `${command.name()} has examples`);
    assert.ok(examples.length >= 2 && examples.length <= 4, `${command.name()}: ${examples}`);
    assert.ok(
      help.includes("Global Options:") && help.includes("--format <format>"),
      command.name(),
    );
    for (const line of help.split("\n")) assert.ok(line.length <= 80, `${command.name()}: ${line}`);
    // The command list of the top-level help names every command.
    assert.match(top.stdout, new RegExp(`\\n  ${command.name()}[ |]`));
  }
});

Deno.test("help shows the defaults worth knowing and marks required options", async () => {
  const push = (await runCli(["push", "--help"])).stdout.replace(/\s+/g, " ");
  assert.match(
    push,
    /--compression-level <n> gzip 1-9 or zstd 1-19 \(default: 6 for gzip, 3 for zstd\)/,
  );
  assert.match(
    push,
    /--compression <algorithm> layer compression \(one of: gzip, zstd, none; default: gzip\)/,
  );
  assert.doesNotMatch(push, /default: false/);
  const pull = (await runCli(["pull", "--help"])).stdout.replace(/\s+/g, " ");
  assert.match(pull, /--max-size <size> .*\(default: 32G\)/);
  assert.match(pull, /-o, --output <dir> directory to create or replace \(required\)/);
  const sync = (await runCli(["sync", "--help"])).stdout.replace(/\s+/g, " ");
  assert.match(sync, /-c, --config <file> .*\(required\)/);
});

Deno.test("bash completion offers aliases, platforms, shells, and -h/--help once", async () => {
  const script = (await runCli(["completion", "bash"])).stdout;
  const complete = async (line: string[]) => {
    const probe = `${script}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}
_artifact_cli; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return (await runTool("bash", ["-c", probe])).stdout.trim().split("\n");
  };
  assert.ok((await complete(["artifact-cli", "c"])).includes("cp"));
  assert.ok((await complete(["artifact-cli", "cp", "--conc"])).includes("--concurrency"));
  assert.deepEqual(await complete(["artifact-cli", "pull", "x", "-p", "linux/arm"]), [
    "linux/arm64",
    "linux/arm/v7",
    "linux/arm/v6",
  ]);
  assert.deepEqual(await complete(["artifact-cli", "push", "x", "--platform", "darwin/"]), [
    "darwin/amd64",
    "darwin/arm64",
  ]);
  assert.deepEqual(await complete(["artifact-cli", "completion", ""]), ["bash", "zsh", "fish"]);
  const options = await complete(["artifact-cli", "pull", "-"]);
  assert.equal(options.filter((o) => o === "--help").length, 1);
  assert.equal(options.filter((o) => o === "-h").length, 1);
});

Deno.test("zsh and fish completion know aliases and the shells of completion", async () => {
  const zsh = (await runCli(["completion", "zsh"])).stdout;
  assert.match(zsh, /'cp:/);
  assert.match(zsh, /1:completion:\(bash zsh fish\)/);
  const fish = (await runCli(["completion", "fish"])).stdout;
  assert.match(fish, /-a cp /);
  assert.match(fish, /__fish_seen_subcommand_from completion' -xa 'bash zsh fish'/);
  assert.equal(fish.split("\n").filter((l) => l.includes("-l help")).length, 1);
});
