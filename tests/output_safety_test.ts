/**
 * A pull deletes nothing it did not write. Recovery of interrupted pulls acts
 * only on state the owner record proves ours (never on names alone, never
 * through a link); names of the tool's temporary-state pattern are refused
 * in layers and at push; a non-empty directory no earlier pull wrote needs
 * --force; `/`, $HOME, ancestors of $HOME or the cwd, and directories with a
 * mount inside are never replaced.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { MT, RawLayout } from "./support/layout_builder.ts";
import { buildTarGz } from "./support/tar_builder.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const DEAD = "999999-deadbeef"; // a pid that does not run, with our suffix shape
const STATE_NAMES = [
  `.artifact-cli-new-${DEAD}`,
  `.artifact-cli-old-${DEAD}`,
  `.artifact-cli-tmp-${DEAD}`,
  `.artifact-cli-owner-${DEAD}`,
];

interface Fx {
  dir: string;
  env: Record<string, string>;
  victim: string;
  victimTree: string[];
  store: string;
}

async function setUp(dir: string): Promise<Fx> {
  const victim = join(dir, "victim");
  await Deno.mkdir(join(victim, "sub"), { recursive: true });
  await Deno.writeTextFile(join(victim, "precious.txt"), "important\n");
  await Deno.writeTextFile(join(victim, "sub", "more.txt"), "more\n");
  const src = join(dir, "src");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "file.txt"), "x\n");
  const store = join(dir, "store");
  const layout = await OciLayout.open(store, { create: true });
  await pushTree(layout, { inputs: [src], tag: "v1" });
  await Deno.writeTextFile(join(src, "file.txt"), "y\n");
  await pushTree(layout, { inputs: [src], tag: "v2" });
  return { dir, env: isolatedEnv(dir), victim, victimTree: describeTree(victim), store };
}

const pull = (fx: Fx, ref: string, out: string, ...extra: string[]) =>
  runCli(["pull", `oci:${fx.store}:${ref}`, "-o", out, ...extra], { env: fx.env });

Deno.test("the reported case: a symlink named like our state cannot be pushed, and a second pull leaves its target alone", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const src = join(fx.dir, "src");
  await Deno.symlink(fx.victim, join(src, `.artifact-cli-new-${DEAD}`));
  const push = await runCli(["push", `oci:${fx.dir}/L:v1`, src], { env: fx.env });
  assert.equal(push.code, 2, push.stderr);
  assert.match(push.stderr, /reserved for artifact-cli/);
  assert.equal(push.stderr.trim().split("\n").length, 1);
  assert.deepEqual(describeTree(fx.victim), fx.victimTree);
});

for (const name of STATE_NAMES) {
  for (const kind of ["symlink", "file", "dir", "nested dir"] as const) {
    Deno.test(`a layer entry named ${name} (${kind}) is refused at extraction, nothing written`, async () => {
      await using tmp = await tempDir();
      const fx = await setUp(tmp.path);
      const raw = await RawLayout.create(join(fx.dir, "hostile"));
      const entry = kind === "symlink"
        ? { name, type: "2", linkname: fx.victim }
        : kind === "file"
        ? { name, content: "x" }
        : kind === "dir"
        ? { name: `${name}/`, type: "5" }
        : { name: `a/b/${name}/c.txt`, content: "x" };
      const manifest = await raw.addImage([buildTarGz([{ name: "ok.txt", content: "ok" }, entry])]);
      await raw.setIndex([{ ...manifest, tag: "v1" }]);
      const out = join(fx.dir, "out");
      assert.equal((await pull(fx, "v1", out)).code, 0); // an earlier pull of good content
      const before = describeTree(out);
      const result = await runCli(["pull", `oci:${raw.root}:v1`, "-o", out], { env: fx.env });
      assert.notEqual(result.code, 0, result.stderr);
      assert.match(result.stderr, /reserved for artifact-cli/);
      assert.deepEqual(describeTree(out), before);
      assert.deepEqual(describeTree(fx.victim), fx.victimTree);
    });
  }
}

Deno.test("planted state names inside an earlier output (links, files, directories without our record) are never followed, moved or emptied", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const out = join(fx.dir, "out");
  assert.equal((await pull(fx, "v1", out)).code, 0);
  // Someone with write access to the output plants every shape of our names.
  await Deno.symlink(fx.victim, join(out, `.artifact-cli-new-${DEAD}`));
  await Deno.symlink(fx.victim, join(out, `.artifact-cli-old-${DEAD}`));
  await Deno.writeTextFile(join(out, `.artifact-cli-tmp-${DEAD}`), "a file\n");
  await Deno.mkdir(join(out, `.artifact-cli-new-111111-0123abcd`));
  await Deno.writeTextFile(join(out, `.artifact-cli-new-111111-0123abcd`, "f.txt"), "mine\n");
  await Deno.symlink(join(fx.victim, "precious.txt"), join(out, `.artifact-cli-owner-${DEAD}`));
  for (const ref of ["v2", "v1", "v2"]) {
    const result = await pull(fx, ref, out);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(describeTree(fx.victim), fx.victimTree, `after pulling ${ref}`);
    assert.equal(Deno.readTextFileSync(join(out, "file.txt")), ref === "v1" ? "x\n" : "y\n");
  }
});

Deno.test("planted state names next to the output (links into a victim, forged records) are left alone", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const work = join(fx.dir, "work");
  const out = join(work, "out");
  assert.equal((await pull(fx, "v1", out)).code, 0);
  const planted = [
    [`.out.artifact-cli-old-${DEAD}`, "link"],
    [`.out.artifact-cli-tmp-${DEAD}`, "link"],
    [`.out.artifact-cli-owner-${DEAD}`, "link"],
    [`.out.artifact-cli-old-222222-0123abcd`, "dir"],
    [`.out.artifact-cli-owner-222222-0123abcd`, "forged"],
  ] as const;
  for (const [name, kind] of planted) {
    const path = join(work, name);
    if (kind === "link") await Deno.symlink(fx.victim, path);
    else if (kind === "dir") await Deno.mkdir(path);
    else await Deno.writeTextFile(path, '{"tool":"artifact-cli","id":"other","pid":222222}\n');
  }
  await Deno.remove(out, { recursive: true }); // the target is missing: an "old" would be restored
  const result = await pull(fx, "v2", out);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(Deno.readTextFileSync(join(out, "file.txt")), "y\n");
  assert.deepEqual(describeTree(fx.victim), fx.victimTree);
  const left = [...Deno.readDirSync(work)].map((e) => e.name).sort();
  assert.deepEqual(left, ["out", ...planted.map(([n]) => n)].sort());
});

Deno.test("a non-empty directory no pull wrote needs --force: without it exit 2 before any download, with it replaced", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const out = join(fx.dir, "mine");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "notes.txt"), "my notes\n");
  const before = describeTree(out);
  // A missing blob would fail the download: a refusal must come first.
  const refused = await pull(fx, "v1", out);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /not empty and was not written by an earlier pull.*--force/);
  assert.equal(refused.stderr.trim().split("\n").length, 1);
  assert.deepEqual(describeTree(out), before);
  const forced = await pull(fx, "v1", out, "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["file.txt"]);
});

Deno.test("pulling again into its own output needs no flag, for the same or another reference, also after a move-aside; a look-alike directory does", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const out = join(fx.dir, "out");
  await Deno.mkdir(out); // empty: no flag
  for (const ref of ["v1", "v1", "v2", "v1"]) {
    const result = await pull(fx, ref, out);
    assert.equal(result.code, 0, `${ref}: ${result.stderr}`);
  }
  // The output tree itself holds exactly the content, no marker file.
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["file.txt"]);
  // Another directory put at the same path (same content, other inode) is not ours.
  await Deno.rename(out, join(fx.dir, "aside"));
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "file.txt"), "x\n");
  const refused = await pull(fx, "v2", out);
  assert.equal(refused.code, 2, refused.stderr);
  // Another cache dir knows nothing of the output: refused too (the record is the proof).
  const other = await runCli(["pull", `oci:${fx.store}:v2`, "-o", join(fx.dir, "aside")], {
    env: { ...fx.env, ARTIFACT_CLI_CACHE_DIR: join(fx.dir, "other-cache"), TMPDIR: fx.dir },
  });
  assert.equal(other.code, 2, other.stderr);
});

Deno.test("/, $HOME, ancestors of $HOME and of the cwd, and the cwd are never replaced, even with --force", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const home = join(fx.dir, "home", "user");
  const cwd = join(fx.dir, "work", "here");
  await Deno.mkdir(home, { recursive: true });
  await Deno.mkdir(cwd, { recursive: true });
  await Deno.writeTextFile(join(home, ".profile"), "keep\n");
  for (const target of ["/", home, join(fx.dir, "home"), cwd, join(fx.dir, "work"), fx.dir]) {
    const result = await runCli(
      ["pull", `oci:${fx.store}:v1`, "-o", target, "--force"],
      { cwd, env: { ...fx.env, HOME: home } },
    );
    assert.equal(result.code, 2, `${target}: ${result.stderr}`);
    assert.match(result.stderr, /refusing to replace/);
  }
  assert.equal(Deno.readTextFileSync(join(home, ".profile")), "keep\n");
  assert.ok(Deno.statSync(fx.store).isDirectory);
});

Deno.test("a directory with a mount point inside is never replaced, even with --force", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const parent = join(fx.dir, "parent");
  await Deno.mkdir(join(parent, "mnt"), { recursive: true });
  await Deno.writeTextFile(join(parent, "keep.txt"), "keep\n");
  const unshare = Deno.uid() === 0 ? ["unshare", "-m"] : ["unshare", "-r", "-m"];
  const script = 'mount -t tmpfs none "$0/mnt" && exec "$@"';
  const out = await new Deno.Command(unshare[0], {
    args: [
      ...unshare.slice(1),
      "sh",
      "-c",
      script,
      parent,
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      new URL("../main.ts", import.meta.url).pathname,
      "pull",
      `oci:${fx.store}:v1`,
      "-o",
      parent,
      "--force",
    ],
    env: { ...fx.env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /is mounted inside it/);
  assert.equal(Deno.readTextFileSync(join(parent, "keep.txt")), "keep\n");
});

Deno.test("sync refuses a non-empty artifact directory no pull wrote before downloading anything; --force replaces it", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const dest = join(fx.dir, "dest");
  await Deno.mkdir(join(dest, "b"), { recursive: true });
  await Deno.writeTextFile(join(dest, "b", "mine.txt"), "mine\n");
  const config = join(fx.dir, "sync.yml");
  await Deno.writeTextFile(
    config,
    `artifacts:\n` +
      `  - path: a\n    image: oci:${fx.store}:v1\n  - path: b\n    image: oci:${fx.store}:v2\n`,
  );
  const refused = await runCli(["sync", "-c", config, "-o", dest], { env: fx.env });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--force/);
  assert.deepEqual([...Deno.readDirSync(dest)].map((e) => e.name), ["b"], "a was not pulled");
  const forced = await runCli(["sync", "-c", config, "-o", dest, "--force"], { env: fx.env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(Deno.readTextFileSync(join(dest, "b", "file.txt")), "y\n");
  const again = await runCli(["sync", "-c", config, "-o", dest], { env: fx.env });
  assert.equal(again.code, 0, again.stderr);
});

void MT;

Deno.test("a directory that got a deleted output's inode number back is not taken for that output", async () => {
  await using tmp = await tempDir();
  const fx = await setUp(tmp.path);
  const out = join(fx.dir, "out");
  assert.equal((await pull(fx, "v1", out)).code, 0);
  const ino = Deno.statSync(out).ino;
  await Deno.remove(out, { recursive: true });
  // File systems hand freed inode numbers out again (ext4 at once): find the one that has it.
  let reused: string | undefined;
  for (let i = 0; i < 500 && !reused; i++) {
    const candidate = join(fx.dir, `d${i}`);
    await Deno.mkdir(candidate);
    if (Deno.statSync(candidate).ino === ino) reused = candidate;
  }
  if (!reused) {
    console.warn("this file system gave no inode number back; nothing to check here");
    return;
  }
  await Deno.writeTextFile(join(reused, "mine.txt"), "the user's\n");
  await Deno.rename(reused, out);
  const refused = await pull(fx, "v2", out);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(await Deno.readTextFile(join(out, "mine.txt")), "the user's\n");
});
