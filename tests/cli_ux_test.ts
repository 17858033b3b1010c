import assert from "node:assert/strict";
import { join } from "node:path";
import { buildProgram } from "../src/cli.ts";
import { runCli, runTool } from "./support/cli.ts";
import { FIXTURES } from "./support/fixtures.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Every blob file and index.json entry of a layout, for exact comparisons. */
function layoutDigests(dir: string): string[] {
  return [...Deno.readDirSync(join(dir, "blobs", "sha256"))].map((e) => e.name).sort();
}

Deno.test("copy of a multi-platform index to a layout and back keeps every digest", async () => {
  await using dir = await tempDir();
  const first = join(dir.path, "first");
  const second = join(dir.path, "second");
  const a = await runCli(["copy", `oci:${FIXTURES}buildah-layout:v1`, `oci:${first}:v1`]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(
    a.stdout.trim(),
    /@sha256:53b6ca3a6792987e7dc7de971f68d7e19b97632994c8259f90bb98297e232b46$/,
  );
  const b = await runCli(["copy", `oci:${first}:v1`, `oci:${second}:v2`, "--format", "json"]);
  assert.equal(b.code, 0, b.stderr);
  const json = JSON.parse(b.stdout);
  assert.equal(
    json.digest,
    "sha256:53b6ca3a6792987e7dc7de971f68d7e19b97632994c8259f90bb98297e232b46",
  );
  assert.equal(Object.keys(json.nodes).length, 6);
  const fixtureBlobs = layoutDigests(join(FIXTURES, "buildah-layout"));
  assert.deepEqual(layoutDigests(first), fixtureBlobs);
  assert.deepEqual(layoutDigests(second), fixtureBlobs);
  for (const blob of fixtureBlobs) {
    assert.deepEqual(
      await Deno.readFile(join(second, "blobs", "sha256", blob)),
      await Deno.readFile(join(FIXTURES, "buildah-layout", "blobs", "sha256", blob)),
    );
  }
  // A second copy transfers nothing.
  const again = await runCli(["copy", `oci:${first}:v1`, `oci:${second}:v2`, "--format", "json"]);
  assert.ok(Object.values(JSON.parse(again.stdout).nodes).every((o) => o === "skipped"));
});

Deno.test("tag adds tags and tags lists them sorted", async () => {
  await using dir = await tempDir();
  await makeSampleTree(join(dir.path, "src"));
  assert.equal((await runCli(["push", "oci:store:v1", "src"], { cwd: dir.path })).code, 0);
  const tagged = await runCli(["tag", "oci:store:v1", "stable", "2.0"], { cwd: dir.path });
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.deepEqual(tagged.stdout.trim().split("\n"), ["oci:store:stable", "oci:store:2.0"]);
  const tags = await runCli(["tags", "oci:store", "--format", "json"], { cwd: dir.path });
  assert.deepEqual(JSON.parse(tags.stdout).tags, ["2.0", "stable", "v1"]);
  const bad = await runCli(["tag", "oci:store:v1", "-bad"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  const missing = await runCli(["tag", "oci:store:nope", "x"], { cwd: dir.path });
  assert.equal(missing.code, 3);
});

Deno.test("progress bars appear on a terminal and nothing but the result in a pipe", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  await Deno.writeFile(join(src, "big.bin"), crypto.getRandomValues(new Uint8Array(65536)));
  const cmd = `${Deno.execPath()} run -A --quiet ${MAIN} push oci:store:v1 src`;
  const tty = await runTool("script", ["-qec", `env NO_COLOR=1 ${cmd}`, "/dev/null"], {
    cwd: dir.path,
  });
  assert.match(tty.stdout, /\n[0-9a-f]{12} {2}\[ +\] 0 B \/ 64\.\d KiB {2}0 B\/s/);
  assert.match(tty.stdout, /✓ [0-9a-f]{12} {2}64\.\d KiB in /);
  assert.match(tty.stdout, /packing 7 files {2}\[/);
  assert.match(tty.stdout, /Pushed oci:store@sha256:[0-9a-f]{64} \(\d.*; [\d.]+ KiB uploaded\)/);
  assert.ok(!tty.stdout.includes("\x1b[32m"), "no colour with NO_COLOR");
  const colored = await runTool("script", ["-qec", `env -u NO_COLOR ${cmd}`, "/dev/null"], {
    cwd: dir.path,
  });
  assert.ok(colored.stdout.includes("\x1b[32m✓"), "colour without NO_COLOR");
  const piped = await runCli(["push", "oci:store:v2", "src"], { cwd: dir.path });
  assert.equal(piped.stderr, "");
  assert.match(piped.stdout, /^oci:store@sha256:[0-9a-f]{64}\n$/);
  const quiet = await runTool("script", ["-qec", `${cmd} --quiet`, "/dev/null"], { cwd: dir.path });
  assert.doesNotMatch(quiet.stdout, /✓|Pushed/);
});

Deno.test("an unknown flag or command exits 2 with one line", async () => {
  for (
    const args of [["push", "--bogus"], ["nonsense"], ["pull", "oci:x"], [
      "--format",
      "yaml",
      "version",
    ]]
  ) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, /^error: /);
  }
});

Deno.test("every command's --help exits 0 and lists every option the command accepts", async () => {
  const program = buildProgram();
  for (const command of program.commands) {
    const help = await runCli([command.name(), "--help"]);
    assert.equal(help.code, 0, command.name());
    for (const option of command.options.filter((o) => !o.hidden)) {
      assert.ok(help.stdout.includes(option.long!), option.long);
    }
    assert.ok(help.stdout.includes(command.description().slice(0, 30)), command.name());
  }
});

Deno.test("bash completion completes commands, options and option values", async () => {
  const script = (await runCli(["completion", "bash"])).stdout;
  const complete = async (line: string[]) => {
    const probe = `${script}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}
_artifact_cli; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return (await runTool("bash", ["-c", probe])).stdout.trim().split("\n");
  };
  assert.ok((await complete(["artifact-cli", "pu"])).includes("push"));
  assert.ok((await complete(["artifact-cli", "pu"])).includes("pull"));
  assert.ok((await complete(["artifact-cli", "push", "--comp"])).includes("--compression"));
  assert.deepEqual(await complete(["artifact-cli", "push", "--compression", "z"]), ["zstd"]);
  assert.ok((await complete(["artifact-cli", "pull", "--"])).includes("--output"));
});

Deno.test("zsh and fish completion scripts are valid for their shells", async () => {
  await using dir = await tempDir();
  for (
    const [shell, check] of [["zsh", ["zsh", "-n"]], ["fish", ["fish", "--no-execute"]]] as const
  ) {
    const script = (await runCli(["completion", shell])).stdout;
    const path = join(dir.path, `completion.${shell}`);
    await Deno.writeTextFile(path, script);
    await runTool(check[0], [check[1], path]);
    assert.match(script, /push/);
  }
});

Deno.test("the bundled single file pushes and pulls offline", async () => {
  await using dir = await tempDir();
  const bundle = join(dir.path, "artifact-cli.js");
  await runTool(Deno.execPath(), ["bundle", "--quiet", "--output", bundle, MAIN]);
  const src = await makeSampleTree(join(dir.path, "src"));
  const env = { DENO_DIR: join(dir.path, "empty-deno-dir") };
  const push = await runCli(["push", "oci:store:v1", "src"], { cwd: dir.path, entry: bundle, env });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runCli(["pull", "oci:store:v1", "-o", "out"], {
    cwd: dir.path,
    entry: bundle,
    env,
  });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(join(dir.path, "out")), describeTree(src));
});

Deno.test("version prints the deno.json version", async () => {
  const { default: denoJson } = await import("../deno.json", { with: { type: "json" } });
  const json = JSON.parse((await runCli(["version", "--format", "json"])).stdout);
  assert.equal(json.version, denoJson.version);
  assert.equal((await runCli(["--version"])).stdout.trim(), denoJson.version);
});
