/**
 * Sync never writes outside its destination and never replaces the
 * directory holding its own config or lock file; an interrupted sync leaves
 * no temporary directory behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { runUntilPaused } from "./support/paused.ts";
import { tempDir } from "./support/tree.ts";

async function storeWithArtifact(cwd: string): Promise<void> {
  await Deno.mkdir(join(cwd, "src"));
  await Deno.writeTextFile(join(cwd, "src", "a.txt"), "a\n");
  const push = await runCli(["push", "oci:store:a", "src"], { cwd, env: isolatedEnv(cwd) });
  assert.equal(push.code, 0, push.stderr);
}

async function syncWith(cwd: string, path: string, extra: string[] = [], destination = "out") {
  await Deno.writeTextFile(
    join(cwd, "sync.yml"),
    `destination: ${destination}\nartifacts:\n  - image: oci:store:a\n    path: ${path}\n`,
  );
  return await runCli(["sync", "-c", "sync.yml", ...extra], { cwd, env: isolatedEnv(cwd) });
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("sync refuses a link anywhere between the destination and an artifact directory", async () => {
  for (const [link, path] of [["sub", "sub/content"], ["a/b", "a/b/c/d"], ["sub", "sub"]]) {
    await using dir = await tempDir();
    const cwd = dir.path;
    await storeWithArtifact(cwd);
    const outside = join(cwd, "outside");
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(outside, "keep.txt"), "mine\n");
    await Deno.mkdir(join(cwd, "out", link, ".."), { recursive: true });
    await Deno.symlink(outside, join(cwd, "out", link));
    const result = await syncWith(cwd, path, ["--force"]);
    assert.equal(result.code, 2, `${path}: ${result.stderr}`);
    assert.match(
      result.stderr,
      /is a symbolic link; artifact path .* must lie in real directories/,
    );
    assert.equal(result.stderr.trim().split("\n").length, 1);
    assert.deepEqual(names(outside), ["keep.txt"], `${path}: wrote outside the destination`);
  }
});

Deno.test("sync refuses an artifact path that would replace the directory holding the config or the lock file", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await storeWithArtifact(cwd);
  const before = names(cwd);
  // Destination "." and path ".": the config's own directory.
  for (
    const [destination, path, extra] of [
      [".", ".", ["--force"]],
      ["..", Deno.build.os === "linux" ? cwd.split("/").pop()! : ".", ["--force"]],
      ["out", "locks", ["--lock-file", "out/locks/sync.lock", "--update-lock", "--force"]],
    ] as const
  ) {
    if (path === "locks") {
      await Deno.mkdir(join(cwd, "out", "locks"), { recursive: true });
      await Deno.writeTextFile(join(cwd, "out", "locks", "sync.lock"), "");
    }
    const result = await syncWith(cwd, path, [...extra], destination);
    assert.equal(result.code, 2, `${destination} ${path}: ${result.stderr}`);
    assert.match(result.stderr, /would replace .*, which holds .*(sync\.yml|sync\.lock)/);
  }
  assert.ok(names(cwd).includes("sync.yml"));
  assert.deepEqual(names(cwd).filter((n) => n !== "out"), before.concat("sync.yml").sort());
  assert.deepEqual(names(join(cwd, "out", "locks")), ["sync.lock"]);
});

Deno.test("sync with path . fills a separate destination directory", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await storeWithArtifact(cwd);
  const result = await syncWith(cwd, ".", [], "out");
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(names(join(cwd, "out")), ["a.txt"]);
});

Deno.test("an interrupted sync removes its temporary directories", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    await using dir = await tempDir();
    const cwd = dir.path;
    await storeWithArtifact(cwd);
    await Deno.writeTextFile(
      join(cwd, "sync.yml"),
      "destination: out\nartifacts:\n  - image: oci:store:a\n    path: c\n",
    );
    await Deno.mkdir(join(cwd, "tmp"));
    const paused = await runUntilPaused(["sync", "-c", "sync.yml"], "extract", {
      cwd,
      env: { ...isolatedEnv(cwd), TMPDIR: join(cwd, "tmp") },
    });
    const { code, stderr } = await paused.signal(signal);
    assert.equal(code, signal === "SIGINT" ? 130 : 143, stderr);
    assert.deepEqual(names(join(cwd, "out")), [], "temporary directories left in the destination");
    assert.deepEqual(names(join(cwd, "tmp")).filter((n) => !/^artifact-cli-\d+$/.test(n)), []);
  }
});
