/**
 * Every usage error prints exactly one line that says what is wrong, and
 * exits 2: whether commander finds it while parsing or a command's own code
 * throws it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

/** [arguments, what the line must say]; `SRC` is a real directory, `DIR` the scratch dir. */
const USAGE_ERRORS: [string[], RegExp][] = [
  [["ls", "x"], /unknown command 'ls' \(did you mean tags\?\)/],
  [["inspect", "x"], /did you mean describe\?/],
  [["pul", "x"], /unknown command 'pul'.*pull/],
  [["push", "oci:DIR/s:v1", "SRC", "--bogus"], /unknown option '--bogus'/],
  [
    ["push", "oci:DIR/s:v1", "SRC", "--annotation", "novalue"],
    /annotation "novalue" is not key=value/,
  ],
  [["push", "oci:DIR/s:v1", "SRC", "-a", "=v"], /annotation "=v" is not key=value/],
  [["push", "oci:DIR/s:v1", "SRC", "--compression", "lz4"], /lz4.*Allowed choices/],
  [["push", "oci:DIR/s:v1", "SRC", "--compression-level", "12"], /levels are 1 to 9/],
  [["push", "oci:DIR/s:v1", "SRC", "--compression-level", "x"], /integer from 1 to 19/],
  [["push", "oci:DIR/s:v1", "SRC", "--concurrency", "0"], /integer from 1 to 64/],
  [["push", "oci:DIR/s:v1", "SRC", "-p", "linux"], /platform/],
  [["push", "oci:DIR/s:v1", "SRC", "-p", "linux/amd64,linux/amd64"], /given twice/],
  [
    ["push", "oci:DIR/s:v1", "SRC", "-p", "linux/amd64", "--artifact-type", "a/b"],
    /cannot be combined/,
  ],
  [["push", "oci:DIR/s:v1", "DIR/missing"], /DIR\/missing does not exist/],
  [["push", "oci:DIR/s:v1", "-f", "DIR/missing"], /DIR\/missing does not exist/],
  [["push", "oci:DIR/s:v1", "-p", "linux/amd64=DIR/missing"], /DIR\/missing does not exist/],
  [
    ["push", "oci:DIR/s:v1", "/etc/hostname/x"],
    /\/etc\/hostname\/x: a component before the last is not a directory/,
  ],
  [
    ["push", "SRC", "localhost:5000/team/app:v1"],
    /the reference comes first: artifact-cli push localhost:5000\/team\/app:v1 SRC/,
  ],
  [["push", "oci:DIR/s:v1"], /nothing to push/],
  [["pull", "oci:DIR/s:v1"], /required option '-o, --output <dir>'/],
  [
    ["pull", "http://localhost:5000/team/app:v1", "-o", "DIR/o"],
    /no scheme: write "localhost:5000\/team\/app:v1"/,
  ],
  [["pull", "https://ghcr.io/team/app", "-o", "DIR/o"], /no scheme: write "ghcr.io\/team\/app"/],
  [["pull", "./store", "-o", "DIR/o"], /an OCI layout directory is written oci:\.\/store/],
  [["pull", "localhost:5000/a:b:c", "-o", "DIR/o"], /invalid/],
  [["pull", "oci:DIR/s:v1", "-o", "DIR/o", "--max-size", "lots"], /a size such as 512M/],
  [["pull", "oci:DIR/s:v1", "-o", "DIR/o", "--format", "yaml"], /yaml.*Allowed choices/],
  [
    ["pull", "localhost:5000/a:v1", "-o", "DIR/o", "--insecure", "--plain-http"],
    /exclude each other/,
  ],
  [
    ["pull", "localhost:5000/a:v1", "-o", "DIR/o", "--password-stdin"],
    /--password-stdin needs --username/,
  ],
  [["pull", "localhost:5000/a:v1", "-o", "DIR/o", "-w", "pw"], /--password needs --username/],
  [["pull", "localhost:5000/a:v1", "-o", "DIR/o", "-u", "me"], /--username needs a password/],
  [["tag", "oci:DIR/s:v1", "bad tag"], /invalid tag/],
  [["completion", "tcsh"], /tcsh.*Allowed choices/],
  [["sync"], /required option '-c, --config <file>'/],
  [["copy", "oci:DIR/s:v1"], /missing required argument 'destination'/],
];

Deno.test("every usage error prints one clear line and exits 2", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const env = isolatedEnv(dir.path);
  for (const [template, expected] of USAGE_ERRORS) {
    const args = template.map((a) => a.replaceAll("SRC", src).replaceAll("DIR", dir.path));
    const result = await runCli(args, { env, cwd: dir.path });
    const shown = expected.source.replaceAll("SRC", src).replaceAll("DIR", dir.path);
    const label = args.join(" ");
    assert.equal(result.code, 2, `${label}: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${label}: one line, got ${JSON.stringify(result.stderr)}`);
    assert.match(lines[0], /^error: \S/, label);
    assert.match(lines[0], new RegExp(shown), label);
  }
  // None of them created a layout or an output directory.
  for (const name of ["s", "o"]) {
    assert.throws(() => Deno.lstatSync(join(dir.path, name)), Deno.errors.NotFound, name);
  }
});

Deno.test("a push into a new layout that fails leaves no layout behind", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  // Names starting with .wh. are refused while packing, after the layout was opened.
  await Deno.writeTextFile(join(src, ".wh.reserved"), "x");
  const result = await runCli(["push", `oci:${join(dir.path, "store")}:v1`, src], {
    env: isolatedEnv(dir.path),
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^error: .*\.wh\./);
  assert.throws(() => Deno.lstatSync(join(dir.path, "store")), Deno.errors.NotFound);
  // An existing layout stays, with what it held.
  const ok = await runCli(["push", `oci:${join(dir.path, "kept")}:v1`, join(src, "sub")], {
    env: isolatedEnv(dir.path),
  });
  assert.equal(ok.code, 0, ok.stderr);
  const again = await runCli(["push", `oci:${join(dir.path, "kept")}:v2`, src], {
    env: isolatedEnv(dir.path),
  });
  assert.equal(again.code, 2);
  assert.ok(Deno.statSync(join(dir.path, "kept", "index.json")).isFile);
});

Deno.test("a system error names the path and what went wrong in words", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "file");
  await Deno.writeTextFile(file, "x");
  // The output's parent is a file: the pull cannot create its temporary directory.
  const result = await runCli(["pull", `oci:${dir.path}/none:v1`, "-o", join(file, "out")], {
    env: isolatedEnv(dir.path),
  });
  assert.notEqual(result.code, 0);
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /os error/);
});
