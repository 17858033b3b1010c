/**
 * Atomic pull under `kill -9`: the CLI is stopped at a pause point
 * (ARTIFACT_CLI_TEST_PAUSE_AT) and killed there, then the output and its
 * parent are inspected, and the next run must repair everything.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { runCli } from "./support/cli.ts";
import { runUntilPaused } from "./support/paused.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

interface Fixture {
  dir: string;
  store: string;
  out: string;
  v1: string[];
  v2: string[];
}

/** A layout with v1 (the sample tree) and v2 (a large layer of several files), v1 pulled into out. */
async function setUp(dir: string): Promise<Fixture> {
  const v1Src = await makeSampleTree(join(dir, "v1"));
  const v2Src = join(dir, "v2");
  await Deno.mkdir(join(v2Src, "big"), { recursive: true });
  for (let i = 0; i < 4; i++) {
    // Incompressible, so the layer is several MiB and extraction takes many chunks.
    const bytes = new Uint8Array(2 * 1024 * 1024);
    for (let o = 0; o < bytes.length; o += 65536) {
      crypto.getRandomValues(bytes.subarray(o, o + 65536));
    }
    await Deno.writeFile(join(v2Src, "big", `blob${i}.bin`), bytes);
  }
  await Deno.writeTextFile(join(v2Src, "version.txt"), "v2\n");
  const store = join(dir, "store");
  const layout = await OciLayout.open(store, { create: true });
  await pushTree(layout, { inputs: [v1Src], tag: "v1" });
  await pushTree(layout, { inputs: [v2Src], tag: "v2" });
  const out = join(dir, "work", "out");
  const first = await runCli(["pull", `oci:${store}:v1`, "-o", out]);
  assert.equal(first.code, 0, first.stderr);
  return {
    dir,
    store,
    out,
    v1: describeTree(v1Src),
    v2: v2Summary(v2Src),
  };
}

/** v2's tree without modes, big files listed without their (random) content. */
function v2Summary(path: string): string[] {
  return describeTree(path, { modes: false }).map((l) =>
    l.replace(/^(big\/blob\d\.bin file) .*$/, "$1")
  );
}

const treeOf = (path: string) => describeTree(path);

/** Everything next to the output: temp or old copies and their owner records. */
function leftovers(fx: Fixture): string[] {
  return [...Deno.readDirSync(join(fx.dir, "work"))].map((e) => e.name)
    .filter((n) => n !== "out").sort();
}

/** The temp or old copies next to the output (each has an owner record beside it). */
function strays(fx: Fixture): string[] {
  const all = leftovers(fx);
  const copies = all.filter((n) => !n.includes(".artifact-cli-owner-"));
  for (const copy of copies) {
    const id = copy.slice(copy.lastIndexOf("-", copy.lastIndexOf("-") - 1) + 1);
    assert.ok(all.includes(`.out.artifact-cli-owner-${id}`), `${copy} has its owner record`);
  }
  return copies;
}

for (const point of ["extract", "before-rename"]) {
  Deno.test(`kill -9 at ${point}: the previous output is untouched, the next pull cleans up`, async () => {
    await using dir = await tempDir();
    const fx = await setUp(dir.path);
    const paused = await runUntilPaused(["pull", `oci:${fx.store}:v2`, "-o", fx.out], point);
    await paused.kill();
    assert.deepEqual(treeOf(fx.out), fx.v1);
    const left = strays(fx);
    assert.equal(left.length, 1, "the killed pull left its temp directory");
    assert.match(left[0], /^\.out\.artifact-cli-tmp-\d+-[0-9a-f]{8}$/);
    if (point === "extract") {
      // Killed mid-layer: the temp directory holds part of v2, never all of it.
      const partial = describeTree(join(fx.dir, "work", left[0]), { modes: false });
      assert.ok(!partial.some((l) => l.startsWith("version.txt")), partial.join("\n"));
    }

    const next = await runCli(["pull", `oci:${fx.store}:v2`, "-o", fx.out]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(v2Summary(fx.out), fx.v2);
    assert.deepEqual(leftovers(fx), []);
  });
}

Deno.test("kill -9 between the two renames: even a failing next pull restores the previous output", async () => {
  await using dir = await tempDir();
  const fx = await setUp(dir.path);
  const paused = await runUntilPaused(
    ["pull", `oci:${fx.store}:v2`, "-o", fx.out],
    "between-renames",
  );
  await paused.kill();
  // The window: the output is moved aside, the new one not yet in place.
  await assert.rejects(Deno.lstat(fx.out), Deno.errors.NotFound);
  const left = strays(fx);
  assert.equal(left.length, 2, left.join(", "));
  assert.match(left[0], /^\.out\.artifact-cli-old-/);
  assert.deepEqual(treeOf(join(fx.dir, "work", left[0])), fx.v1);

  const failing = await runCli(["pull", `oci:${fx.store}:nope`, "-o", fx.out]);
  assert.equal(failing.code, 3, failing.stderr);
  assert.deepEqual(treeOf(fx.out), fx.v1);
  assert.deepEqual(leftovers(fx), []);
});

Deno.test("kill -9 after the new output is in place: it stays, the old copy is removed next time", async () => {
  await using dir = await tempDir();
  const fx = await setUp(dir.path);
  const paused = await runUntilPaused(["pull", `oci:${fx.store}:v2`, "-o", fx.out], "after-rename");
  await paused.kill();
  assert.deepEqual(v2Summary(fx.out), fx.v2);
  assert.equal(strays(fx).length, 1);
  const next = await runCli(["pull", `oci:${fx.store}:v1`, "-o", fx.out]);
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(treeOf(fx.out), fx.v1);
  assert.deepEqual(leftovers(fx), []);
});

Deno.test("a pull does not remove the temp directory of a concurrent live pull", async () => {
  await using dir = await tempDir();
  const fx = await setUp(dir.path);
  const paused = await runUntilPaused(
    ["pull", `oci:${fx.store}:v2`, "-o", fx.out],
    "before-rename",
  );
  try {
    const other = await runCli(["pull", `oci:${fx.store}:v1`, "-o", fx.out]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(strays(fx).length, 1, "the live pull's temp directory is still there");
  } finally {
    await paused.kill();
  }
  const next = await runCli(["pull", `oci:${fx.store}:v1`, "-o", fx.out]);
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(leftovers(fx), []);
});
