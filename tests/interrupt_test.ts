/**
 * Interrupts: SIGINT/SIGTERM during a push or a pull remove the temporary
 * state before exiting 130/143 with one line; staging left by `kill -9` is
 * removed by the next push once its owner is gone, and a live push's staging
 * is left alone.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { runUntilPaused } from "./support/paused.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

const staged = (tmp: string) =>
  [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) => n.startsWith("artifact-cli-push-"));

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} during a push removes its staging directory and exits ${code} with one line`, async () => {
    await using dir = await tempDir();
    const src = await makeSampleTree(join(dir.path, "src"));
    const tmp = join(dir.path, "tmp");
    await Deno.mkdir(tmp);
    const paused = await runUntilPaused(
      ["push", `oci:${dir.path}/store:v1`, src],
      "push-staged",
      { env: { TMPDIR: tmp } },
    );
    assert.equal(staged(tmp).length, 1, "the push staged its layer");
    const result = await paused.signal(signal);
    assert.equal(result.code, code, result.stderr);
    assert.match(result.stderr, /interrupted/);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.deepEqual(staged(tmp), []);
  });

  Deno.test(`${signal} during a pull's extraction removes its temporary directory; the output stays`, async () => {
    await using dir = await tempDir();
    const src = await makeSampleTree(join(dir.path, "src"));
    assert.equal((await runCli(["push", `oci:${dir.path}/store:v1`, src])).code, 0);
    const work = join(dir.path, "work");
    const paused = await runUntilPaused(
      ["pull", `oci:${dir.path}/store:v1`, "-o", join(work, "out")],
      "extract",
    );
    const result = await paused.signal(signal);
    assert.equal(result.code, code, result.stderr);
    assert.deepEqual([...Deno.readDirSync(work)].map((e) => e.name), []);
  });
}

Deno.test("staging left by kill -9 is removed by the next push; a live push's staging and others' names are left alone", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const tmp = join(dir.path, "tmp");
  await Deno.mkdir(tmp);
  const killed = await runUntilPaused(["push", `oci:${dir.path}/a:v1`, src], "push-staged", {
    env: { TMPDIR: tmp },
  });
  await killed.kill();
  const [left] = staged(tmp);
  assert.ok(left, "kill -9 left the staging directory");
  // A file and a link of the same shape are not ours to remove.
  await Deno.writeTextFile(join(tmp, "artifact-cli-push-999999-0123abcd"), "not a dir\n");
  const victim = join(dir.path, "victim");
  await Deno.mkdir(victim);
  await Deno.writeTextFile(join(victim, "keep.txt"), "keep\n");
  await Deno.symlink(victim, join(tmp, "artifact-cli-push-999998-0123abcd"));
  const live = await runUntilPaused(["push", `oci:${dir.path}/b:v1`, src], "push-staged", {
    env: { TMPDIR: tmp },
  });
  try {
    const next = await runCli(["push", `oci:${dir.path}/c:v1`, src], { env: { TMPDIR: tmp } });
    assert.equal(next.code, 0, next.stderr);
    const now = staged(tmp);
    assert.ok(!now.includes(left), "the dead push's staging was removed");
    assert.equal(now.filter((n) => n.includes(`-${live.pid}-`)).length, 1, "live staging kept");
    assert.ok(now.includes("artifact-cli-push-999999-0123abcd"));
    assert.ok(now.includes("artifact-cli-push-999998-0123abcd"));
    assert.equal(Deno.readTextFileSync(join(victim, "keep.txt")), "keep\n");
  } finally {
    await live.kill();
  }
});
