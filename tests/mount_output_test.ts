/**
 * Pulling into an output directory that is a mount point (a volume, a
 * tmpfs, a bind mount), which cannot be renamed: the content is swapped in
 * place instead, and a pull killed during the swap is repaired by the next
 * one. Mounts are made in a private mount namespace (`unshare -m`, with
 * `-r` when not root), so nothing leaks onto the machine.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { runCli, runTool } from "./support/cli.ts";
import { runUntilPaused } from "./support/paused.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const UNSHARE = Deno.uid() === 0 ? ["unshare", "-m"] : ["unshare", "-r", "-m"];

async function setUp(dir: string) {
  const v1 = await makeSampleTree(join(dir, "v1"));
  const v2 = join(dir, "v2");
  await Deno.mkdir(join(v2, "a-first"), { recursive: true });
  await Deno.writeTextFile(join(v2, "a-first", "one.txt"), "one\n");
  await Deno.writeTextFile(join(v2, "version.txt"), "v2\n");
  await Deno.writeTextFile(join(v2, "zz-last.txt"), "last\n");
  const store = join(dir, "store");
  const layout = await OciLayout.open(store, { create: true });
  const pushed = await pushTree(layout, { inputs: [v1], tag: "v1" });
  await pushTree(layout, { inputs: [v2], tag: "v2" });
  const out = join(dir, "out");
  await Deno.mkdir(out);
  return {
    store,
    out,
    v1: describeTree(v1),
    v2: describeTree(v2),
    layer: pushed.layers[0],
    layout,
  };
}

/** Run a shell script in a private mount namespace; `$OUT`, `$STORE`, `$DENO`, `$MAIN` are set. */
async function inNamespace(script: string, env: Record<string, string>) {
  const vars = Object.entries({ ...env, DENO: Deno.execPath(), MAIN })
    .map(([k, v]) => `${k}='${v}'`).join(" ");
  return await runTool(UNSHARE[0], [...UNSHARE.slice(1), "sh", "-c", `${vars}; ${script}`], {
    allowFailure: true,
  });
}

const listing = `cd "$OUT" && find . -mindepth 1 -printf '%P %y\\n' | sort`;

Deno.test("pulling into a mount point replaces its content in place and keeps the mount", async () => {
  await using dir = await tempDir();
  const fx = await setUp(dir.path);
  const result = await inNamespace(
    `set -e
     mount -t tmpfs tmpfs "$OUT"
     echo previous > "$OUT/previous.txt"
     "$DENO" run -A --quiet "$MAIN" pull "oci:$STORE:v1" -o "$OUT" --force >/dev/null
     mountpoint -q "$OUT" && echo MOUNTED
     ${listing}`,
    { OUT: fx.out, STORE: fx.store },
  );
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines[0], "MOUNTED");
  assert.deepEqual(lines.slice(1), fx.v1.map((l) => `${l.split(" ")[0]} ${typeLetter(l)}`).sort());
});

Deno.test("a failed pull into a mount point leaves its content as it was", async () => {
  await using dir = await tempDir();
  const fx = await setUp(dir.path);
  const blob = fx.layout.blobPath(fx.layer.digest);
  const bytes = await Deno.readFile(blob);
  bytes[bytes.length - 30] ^= 0xff;
  await Deno.writeFile(blob, bytes);
  const result = await inNamespace(
    `mount -t tmpfs tmpfs "$OUT" || exit 99
     echo previous > "$OUT/previous.txt"
     "$DENO" run -A --quiet "$MAIN" pull "oci:$STORE:v1" -o "$OUT" --force >/dev/null
     echo "CODE $?"
     ls -A "$OUT"`,
    { OUT: fx.out, STORE: fx.store },
  );
  assert.match(result.stderr, /digest mismatch|corrupt gzip data/);
  assert.deepEqual(result.stdout.trim().split("\n"), ["CODE 5", "previous.txt"]);
});

/** `unshare -m sh -c 'mount --bind OUT OUT && exec deno ...'`: a bind mount of the output on itself. */
function bindMounted(out: string): string[] {
  return [...UNSHARE, "sh", "-c", 'mount --bind "$0" "$0" && exec "$@"', out];
}

for (
  const [point, expected] of [
    ["before-rename", "v1"],
    ["swap-old-aside", "v1"],
    ["swap-new-in", "v2"],
  ] as const
) {
  Deno.test(`kill -9 at ${point} of an in-place swap: the next pull restores ${expected}`, async () => {
    await using dir = await tempDir();
    const fx = await setUp(dir.path);
    const first = await runCli(["pull", `oci:${fx.store}:v1`, "-o", fx.out]);
    assert.equal(first.code, 0, first.stderr);
    const paused = await runUntilPaused(["pull", `oci:${fx.store}:v2`, "-o", fx.out], point, {
      wrapper: bindMounted(fx.out),
    });
    await paused.kill();
    // The mount died with its namespace; the directory shows what the swap left.
    const left = [...Deno.readDirSync(fx.out)].map((e) => e.name);
    assert.ok(left.some((n) => n.startsWith(".artifact-cli-")), left.join(", "));

    // Even a pull that fails (no such tag) repairs the directory first.
    const failing = await runCli(["pull", `oci:${fx.store}:nope`, "-o", fx.out]);
    assert.equal(failing.code, 3, failing.stderr);
    assert.deepEqual(describeTree(fx.out), expected === "v1" ? fx.v1 : fx.v2);
  });
}

function typeLetter(line: string): string {
  const type = line.split(" ")[1];
  return type === "dir" ? "d" : type === "symlink" ? "l" : "f";
}
