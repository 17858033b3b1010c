import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

async function pushDir(cwd: string, ref: string, dir: string): Promise<string> {
  const result = await runCli(["push", ref, dir, "--format", "json"], { cwd });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).digest;
}

Deno.test("sync pulls two artifacts with include/exclude filters and newRootPath into exact trees", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await makeSampleTree(join(cwd, "a"));
  await Deno.mkdir(join(cwd, "b", "workshop", "content"), { recursive: true });
  await Deno.writeTextFile(join(cwd, "b", "workshop", "content", "01.md"), "one\n");
  await Deno.writeTextFile(join(cwd, "b", "workshop", "content", "draft.tmp"), "x\n");
  await Deno.writeTextFile(join(cwd, "b", "workshop", "config.yaml"), "c\n");
  await Deno.writeTextFile(join(cwd, "b", "README.md"), "outside the new root\n");
  await pushDir(cwd, "oci:store:a", "a");
  await pushDir(cwd, "oci:store:b", "b");
  await Deno.writeTextFile(
    join(cwd, "sync.yml"),
    `destination: out
artifacts:
  - image: oci:store:a
    path: files/a
    includePaths: ["*.txt", "sub/**"]
    excludePaths: ["sub/deeper/"]
  - image: oci:store:b
    path: files/b
    newRootPath: workshop
    excludePaths: ["*.tmp"]
`,
  );
  const result = await runCli(["sync", "-c", "sync.yml", "--format", "json"], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout).artifacts.map((a: { files: number }) => a.files), [
    3,
    2,
  ]);
  assert.deepEqual(describeTree(join(cwd, "out", "files", "a"), { modes: false }), [
    'empty.txt file ""',
    'hello.txt file "hello world\\n"',
    "sub dir",
    'sub/nested.txt file "nested file\\n"',
  ]);
  assert.deepEqual(describeTree(join(cwd, "out", "files", "b"), { modes: false }), [
    'config.yaml file "c\\n"',
    "content dir",
    'content/01.md file "one\\n"',
  ]);
});

Deno.test("a lock file pins digests: re-running with it keeps the content, --update-lock moves on", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await makeSampleTree(join(cwd, "src"));
  const first = await pushDir(cwd, "oci:store:v1", "src");
  await Deno.writeTextFile(
    join(cwd, "sync.yml"),
    "artifacts:\n  - image: oci:store:v1\n    path: out\n",
  );
  const run = (...extra: string[]) =>
    runCli(["sync", "-c", "sync.yml", "--lock-file", "sync.lock", ...extra], { cwd });
  assert.equal((await run()).code, 0);
  const lock = await Deno.readTextFile(join(cwd, "sync.lock"));
  assert.match(lock, new RegExp(`digest: "?${first}`));
  const before = describeTree(join(cwd, "out"));

  await Deno.writeTextFile(join(cwd, "src", "hello.txt"), "changed\n");
  const second = await pushDir(cwd, "oci:store:v1", "src");
  assert.notEqual(second, first);
  const locked = await run();
  assert.equal(locked.code, 0, locked.stderr);
  assert.deepEqual(describeTree(join(cwd, "out")), before);
  assert.equal(await Deno.readTextFile(join(cwd, "sync.lock")), lock);

  assert.equal((await run("--update-lock")).code, 0);
  assert.match(await Deno.readTextFile(join(cwd, "out", "hello.txt")), /changed/);
  assert.match(await Deno.readTextFile(join(cwd, "sync.lock")), new RegExp(second));
});

Deno.test("a bad sync config is one clear line with exit 2 and touches nothing", async () => {
  await using dir = await tempDir();
  const cases: [string, RegExp][] = [
    ["artifacts: []\n", /artifacts: expected a non-empty list/],
    ["artifacts:\n  - image: x\n    path: ../escape\n", /must stay inside the destination/],
    ["artifacts:\n  - image: x\n    path: a\n  - image: y\n    path: a/b\n", /overlaps/],
    ["artifacts:\n  - image: x\n    path: a\n    colour: blue\n", /colour: unknown field/],
    ["artifacts: [\n", /not valid YAML/],
  ];
  for (const [text, message] of cases) {
    await Deno.writeTextFile(join(dir.path, "sync.yml"), text);
    const result = await runCli(["sync", "-c", "sync.yml"], { cwd: dir.path });
    assert.equal(result.code, 2, text);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["sync.yml"]);
});
