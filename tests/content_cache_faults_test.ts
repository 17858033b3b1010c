/**
 * The content cache under faults: entries that are corrupt in other ways
 * than a flipped byte (served verified while they stream, so the pull that
 * read one is redone), a cache write failing halfway, and sync served from
 * the cache.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";
import { blobGets, cacheEnv, randomBytes } from "./support/cache.ts";
import { buildTarGz } from "./support/tar_builder.ts";
import { type Fault, startFaultProxy } from "./support/fault_proxy.ts";

const TYPE = "application/vnd.example.cache.v1";
const MAIN = new URL("../main.ts", import.meta.url).pathname;

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("warning:"));
}

/** A directory of `count` random files of `size` bytes each. */
async function randomTree(dir: string, count: number, size: number): Promise<string> {
  await Deno.mkdir(join(dir, "sub"), { recursive: true });
  for (let i = 0; i < count; i++) {
    await Deno.writeFile(join(dir, i % 2 ? "sub" : ".", `f${i}.bin`), randomBytes(size));
  }
  return dir;
}

async function run(env: Record<string, string>, args: string[], cwd?: string) {
  const result = await runCli([...args, "--format", "json"], { env, cwd });
  assert.equal(result.code, 0, result.stderr);
  return { ...result, json: JSON.parse(result.stdout) };
}

async function assertSameTree(actual: string, expected: string): Promise<void> {
  const diff = await new Deno.Command("diff", { args: ["-r", actual, expected] }).output();
  assert.equal(diff.code, 0, new TextDecoder().decode(diff.stdout));
}

type Spoil = (bytes: Uint8Array) => Uint8Array;

/**
 * Pull twice with every cached layer spoiled in between: the second pull
 * warns once, downloads each layer again and writes the right files; the
 * entries are whole again afterwards (a third pull downloads nothing).
 */
async function spoiledEntries(spoil: Spoil, layerKind: "files" | "tree"): Promise<void> {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const src = await randomTree(join(dir.path, "src"), 4, 150_000);
  const ref = `${registry.host}/team/spoiled:v1`;
  // "files": one file layer per file; "tree": one tar+gzip layer of the directory.
  const push = layerKind === "files"
    ? ["push", ref, "--artifact-type", TYPE, "f0.bin", "f2.bin"]
    : ["push", ref, "."];
  await run(env, push, src);
  const first = await run(env, ["pull", ref, "-o", join(dir.path, "one")]);
  for (const layer of first.json.layers) {
    const path = join(dir.path, "cache", "blobs", "sha256", layer.digest.slice("sha256:".length));
    await Deno.writeFile(path, spoil(await Deno.readFile(path)));
  }
  const mark = (await registry.settledRequests()).length;
  const second = await run(env, ["pull", ref, "-o", join(dir.path, "two")]);
  const warned = warnings(second.stderr);
  assert.equal(warned.length, 1, second.stderr);
  assert.match(warned[0], /content cache entry sha256:[0-9a-f]{64} was corrupt/);
  assert.equal((await blobGets(registry, mark)).length, first.json.layers.length);
  await assertSameTree(join(dir.path, "two"), join(dir.path, "one"));
  if (layerKind === "tree") await assertSameTree(join(dir.path, "two"), src);
  const again = (await registry.settledRequests()).length;
  const third = await run(env, ["pull", ref, "-o", join(dir.path, "three")]);
  assert.deepEqual(warnings(third.stderr), []);
  assert.deepEqual(await blobGets(registry, again), []);
}

const truncated: Spoil = (bytes) => bytes.subarray(0, bytes.length - 1000);
const trailing: Spoil = (bytes) => {
  const out = new Uint8Array(bytes.length + 7);
  out.set(bytes);
  out.set(new TextEncoder().encode("garbage"), bytes.length);
  return out;
};
const flipped: Spoil = (bytes) => {
  const out = bytes.slice();
  out[Math.floor(out.length / 2)] ^= 0xff;
  return out;
};

Deno.test("a truncated cache entry: one warning, downloaded again, the right files", async () => {
  await spoiledEntries(truncated, "files");
});

Deno.test("a cache entry with trailing bytes: one warning, downloaded again, the right files", async () => {
  await spoiledEntries(trailing, "files");
});

Deno.test("corrupt entries of a tar+gzip layer never reach the output", async () => {
  for (const spoil of [flipped, truncated, trailing]) await spoiledEntries(spoil, "tree");
});

Deno.test("an entry replaced by another archive fails the extraction early and is redone", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const src = await randomTree(join(dir.path, "src"), 4, 150_000);
  const ref = `${registry.host}/team/swapped:v1`;
  await run(env, ["push", ref, "."], src);
  const first = await run(env, ["pull", ref, "-o", join(dir.path, "one")]);
  // A valid, short gzip tar whose first entry escapes the output: the extraction refuses it
  // before the stream reaches its end, so the digest check never runs. The failure must still
  // be traced to the cache entry, not reported (and repeated on every pull) as unsafe content.
  const layer = first.json.layers[0];
  const path = join(dir.path, "cache", "blobs", "sha256", layer.digest.slice("sha256:".length));
  await Deno.writeFile(path, buildTarGz([{ name: "../escape.txt", content: "x" }]));
  const mark = (await registry.settledRequests()).length;
  const second = await run(env, ["pull", ref, "-o", join(dir.path, "two")]);
  const warned = warnings(second.stderr);
  assert.equal(warned.length, 1, second.stderr);
  assert.match(warned[0], new RegExp(`${layer.digest} was corrupt`));
  assert.equal((await blobGets(registry, mark)).length, 1);
  await assertSameTree(join(dir.path, "two"), src);
  await assert.rejects(Deno.stat(join(dir.path, "escape.txt")));
});

Deno.test("copy redoes a blob whose cache entry is corrupt, and the copy is whole", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const src = await randomTree(join(dir.path, "src"), 4, 150_000);
  const ref = `${registry.host}/team/copy-spoiled:v1`;
  await run(env, ["push", ref, "--artifact-type", TYPE, "f0.bin", "f2.bin"], src);
  const pulled = await run(env, ["pull", ref, "-o", join(dir.path, "one")]);
  for (const layer of pulled.json.layers) {
    const path = join(dir.path, "cache", "blobs", "sha256", layer.digest.slice("sha256:".length));
    await Deno.writeFile(path, flipped(await Deno.readFile(path)));
  }
  const copy = await runCli(["copy", ref, `oci:${join(dir.path, "layout")}:v1`], { env });
  assert.equal(copy.code, 0, copy.stderr);
  assert.equal(warnings(copy.stderr).length, 1, copy.stderr);
  // The layout verifies every blob it serves: a wrong one would fail this pull.
  await run(env, ["pull", `oci:${join(dir.path, "layout")}:v1`, "-o", join(dir.path, "two")]);
  await assertSameTree(join(dir.path, "two"), join(dir.path, "one"));
});

Deno.test("a second sync of unchanged artifacts downloads 0 blob bytes; a corrupt entry is redone", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const src = await randomTree(join(dir.path, "src"), 4, 100_000);
  await run(env, ["push", `${registry.host}/team/sync-a:v1`, "."], src);
  await run(
    env,
    ["push", `${registry.host}/team/sync-b:v1`, "--artifact-type", TYPE, "f0.bin"],
    src,
  );
  await Deno.writeTextFile(
    join(dir.path, "sync.yml"),
    `destination: out
artifacts:
  - image: ${registry.host}/team/sync-a:v1
    path: a
    excludePaths: ["sub/"]
  - image: ${registry.host}/team/sync-b:v1
    path: b
`,
  );
  let mark = (await registry.settledRequests()).length;
  await run(env, ["sync", "-c", "sync.yml"], dir.path);
  assert.ok((await blobGets(registry, mark)).length >= 2, "the first sync downloads");
  await Deno.remove(join(dir.path, "out"), { recursive: true });
  mark = (await registry.settledRequests()).length;
  const second = await run(env, ["sync", "-c", "sync.yml"], dir.path);
  assert.deepEqual(await blobGets(registry, mark), []);
  assert.deepEqual(warnings(second.stderr), []);
  assert.deepEqual(
    await Deno.readFile(join(dir.path, "out", "b", "f0.bin")),
    await Deno.readFile(join(src, "f0.bin")),
  );
  assert.deepEqual(
    await Deno.readFile(join(dir.path, "out", "a", "f2.bin")),
    await Deno.readFile(join(src, "f2.bin")),
  );
  await assert.rejects(Deno.stat(join(dir.path, "out", "a", "sub")));

  // A corrupt entry during a sync: that artifact's pull is redone, with one warning.
  const f0 = await Deno.readFile(join(src, "f0.bin"));
  const hex = createHash("sha256").update(f0).digest("hex");
  const entry = join(dir.path, "cache", "blobs", "sha256", hex);
  await Deno.writeFile(entry, flipped(await Deno.readFile(entry)));
  const third = await run(env, ["sync", "-c", "sync.yml"], dir.path);
  assert.equal(warnings(third.stderr).length, 1, third.stderr);
  assert.match(warnings(third.stderr)[0], new RegExp(`sha256:${hex} was corrupt`));
  assert.deepEqual(await Deno.readFile(join(dir.path, "out", "b", "f0.bin")), f0);
});

Deno.test("a cache write failing halfway (file size limit) gives one warning and a whole pull", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  // One tar+gzip layer of 1.6 MB of random files, each 50 kB: a file size limit of 512 KiB
  // lets every output file be written but stops the cache entry (the layer) halfway.
  const src = await randomTree(join(dir.path, "src"), 32, 50_000);
  const ref = `${registry.host}/team/limited:v1`;
  await run(env, ["push", ref, "."], src);
  // The limit is the kernel's (RLIMIT_FSIZE): a write past it fails with EFBIG. SIGXFSZ is
  // ignored, as a shell's `trap` leaves it for the program it starts.
  const limited = await new Deno.Command("bash", {
    args: [
      "-c",
      `trap '' XFSZ; ulimit -f 512; exec "$0" run -A --quiet "$@"`,
      Deno.execPath(),
      MAIN,
      "pull",
      ref,
      "-o",
      join(dir.path, "out"),
      "--format",
      "json",
    ],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(limited.stderr);
  assert.equal(limited.code, 0, stderr);
  const warned = warnings(stderr);
  assert.equal(warned.length, 1, stderr);
  assert.match(warned[0], /content cache write failed, continuing without it/);
  await assertSameTree(join(dir.path, "out"), src);
  // Nothing half-written is left as an entry or a temporary file (the small config is cached).
  const layer = JSON.parse(new TextDecoder().decode(limited.stdout)).layers[0];
  const entries = [];
  for await (const e of Deno.readDir(join(dir.path, "cache", "blobs", "sha256"))) {
    entries.push(e.name);
  }
  assert.equal(entries.length, 1, entries.join("\n"));
  assert.ok(!entries.includes(layer.digest.slice("sha256:".length)), entries.join("\n"));
  assert.ok(!entries[0].startsWith("."), entries.join("\n"));
  // Without the limit the layer is downloaded again and cached.
  const mark = (await registry.settledRequests()).length;
  await run(env, ["pull", ref, "-o", join(dir.path, "again")]);
  assert.equal((await blobGets(registry, mark)).length, 1);
  await assertSameTree(join(dir.path, "again"), src);
});

/** Pull through a proxy that spoils the layer's download once; nothing of it may be cached. */
async function spoiledDownload(fault: Fault): Promise<void> {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const src = await randomTree(join(dir.path, "src"), 8, 100_000);
  const pushed = await run(env, ["push", `${registry.host}/team/spoiled-download:v1`, "."], src);
  const layer = pushed.json.layers?.[0] ?? (await run(env, [
    "pull",
    `${registry.host}/team/spoiled-download:v1`,
    "-o",
    join(dir.path, "probe"),
    "--no-cache",
  ])).json.layers[0];
  const hex = layer.digest.slice("sha256:".length);
  await using proxy = await startFaultProxy({
    upstream: registry.url,
    rules: [{ method: "GET", path: new RegExp(`/blobs/sha256:${hex}$`), times: 1, fault }],
  });
  const ref = `${proxy.host}/team/spoiled-download:v1`;
  const env1 = { ...env, ARTIFACT_CLI_RANGED_CONNECTIONS: "1" };
  const failed = await runCli(["pull", ref, "-o", join(dir.path, "bad")], { env: env1 });
  assert.notEqual(failed.code, 0, "a download that does not match fails the pull");
  assert.match(failed.stderr, /digest|bytes|truncated/, failed.stderr);
  // Neither an entry nor a temporary file of the layer is left in the cache.
  const names: string[] = [];
  for await (const e of Deno.readDir(join(dir.path, "cache", "blobs", "sha256"))) {
    names.push(e.name);
  }
  assert.equal(names.includes(hex), false, "the spoiled download is not cached");
  assert.deepEqual(names.filter((n) => n.startsWith(".")), [], names.join("\n"));
  // The next pull downloads it again, whole, and keeps it.
  await run(env1, ["pull", ref, "-o", join(dir.path, "good")]);
  await assertSameTree(join(dir.path, "good"), src);
  const kept = await Deno.readFile(join(dir.path, "cache", "blobs", "sha256", hex));
  assert.equal(createHash("sha256").update(kept).digest("hex"), hex);
}

Deno.test("a download with a flipped byte is not kept in the cache", async () => {
  await spoiledDownload({ kind: "corrupt", offset: 5000 });
});

Deno.test("a truncated download (matching Content-Length) is not kept in the cache", async () => {
  await spoiledDownload({ kind: "truncate", bytes: 4096 });
});

Deno.test("a download with trailing bytes is not kept in the cache", async () => {
  await spoiledDownload({
    kind: "replace-body",
    body: (original) => new Uint8Array([...original, 1, 2, 3]),
  });
});
