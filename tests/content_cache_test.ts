import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";
import { blobGets, cacheEnv, randomBytes } from "./support/cache.ts";

const TYPE = "application/vnd.example.cache.v1";

async function setup(dir: string) {
  const files = join(dir, "files");
  await Deno.mkdir(files);
  for (const name of ["a.bin", "b.bin", "c.bin"]) {
    await Deno.writeFile(join(files, name), randomBytes(200_000));
  }
  return files;
}

async function pushArtifact(
  env: Record<string, string>,
  ref: string,
  cwd: string,
  names: string[],
): Promise<void> {
  const push = await runCli(["push", ref, "--artifact-type", TYPE, ...names], { env, cwd });
  assert.equal(push.code, 0, push.stderr);
}

async function pull(env: Record<string, string>, ref: string, out: string, extra: string[] = []) {
  const result = await runCli(["pull", ref, "-o", out, "--format", "json", ...extra], { env });
  assert.equal(result.code, 0, result.stderr);
  return { ...result, json: JSON.parse(result.stdout) };
}

Deno.test("a second pull of unchanged content downloads 0 blob bytes; --no-cache downloads again", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const cache = join(dir.path, "cache");
  const env = cacheEnv(dir.path);
  const files = await setup(dir.path);
  const ref = `${registry.host}/team/cached:v1`;
  await pushArtifact(env, ref, files, ["a.bin", "b.bin"]);

  let mark = (await registry.settledRequests()).length;
  const first = await pull(env, ref, join(dir.path, "one"));
  assert.equal(first.stderr.includes("warning"), false, first.stderr);
  assert.ok((await blobGets(registry, mark)).length >= 2, "first pull downloads the layers");
  // The cache is an OCI layout holding the blobs by digest.
  await Deno.stat(join(cache, "oci-layout"));
  for (const layer of first.json.layers) {
    const hex = layer.digest.slice("sha256:".length);
    assert.equal((await Deno.stat(join(cache, "blobs", "sha256", hex))).size, layer.size);
  }

  mark = (await registry.settledRequests()).length;
  const second = await pull(env, ref, join(dir.path, "two"));
  assert.deepEqual(await blobGets(registry, mark), []);
  assert.equal(second.stderr.includes("warning"), false, second.stderr);
  assert.deepEqual(
    await Deno.readFile(join(dir.path, "two", "a.bin")),
    await Deno.readFile(join(files, "a.bin")),
  );

  mark = (await registry.settledRequests()).length;
  await pull(env, ref, join(dir.path, "three"), ["--no-cache"]);
  assert.ok((await blobGets(registry, mark)).length >= 2, "--no-cache downloads again");
});

Deno.test("an image sharing layers with an earlier pull downloads only the new layer", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const files = await setup(dir.path);
  await pushArtifact(env, `${registry.host}/team/shared:ab`, files, ["a.bin", "b.bin"]);
  await pushArtifact(env, `${registry.host}/team/shared:ac`, files, ["a.bin", "c.bin"]);
  await pull(env, `${registry.host}/team/shared:ab`, join(dir.path, "ab"));
  const mark = (await registry.settledRequests()).length;
  const ac = await pull(env, `${registry.host}/team/shared:ac`, join(dir.path, "ac"));
  const c = ac.json.layers.find((l: { path?: string; digest: string }) =>
    JSON.stringify(l).includes("c.bin")
  );
  assert.ok(c, JSON.stringify(ac.json.layers));
  const gets = await blobGets(registry, mark);
  assert.equal(gets.length, 1, gets.join("\n"));
  assert.ok(gets[0].includes(c.digest), gets[0]);
});

Deno.test("a corrupt cache entry is detected, removed with one warning, and downloaded again", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const cache = join(dir.path, "cache");
  const env = cacheEnv(dir.path);
  const files = await setup(dir.path);
  const ref = `${registry.host}/team/corrupt:v1`;
  await pushArtifact(env, ref, files, ["a.bin", "b.bin"]);
  const first = await pull(env, ref, join(dir.path, "one"));
  // Same size, different bytes: only the digest check can tell.
  for (const layer of first.json.layers) {
    const path = join(cache, "blobs", "sha256", layer.digest.slice("sha256:".length));
    const bytes = await Deno.readFile(path);
    bytes[100] ^= 0xff;
    await Deno.writeFile(path, bytes);
  }
  const mark = (await registry.settledRequests()).length;
  const second = await pull(env, ref, join(dir.path, "two"));
  const warnings = second.stderr.split("\n").filter((l) => l.startsWith("warning:"));
  assert.equal(warnings.length, 1, second.stderr);
  assert.match(warnings[0], /corrupt/);
  assert.equal((await blobGets(registry, mark)).length, first.json.layers.length);
  assert.deepEqual(
    await Deno.readFile(join(dir.path, "two", "b.bin")),
    await Deno.readFile(join(files, "b.bin")),
  );
  // Downloaded again into the cache, intact: a third pull downloads nothing.
  const again = (await registry.settledRequests()).length;
  await pull(env, ref, join(dir.path, "three"));
  assert.deepEqual(await blobGets(registry, again), []);
});

Deno.test("an unwritable cache directory gives one warning and the pull succeeds", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const files = await setup(dir.path);
  const ref = `${registry.host}/team/readonly:v1`;
  await pushArtifact(isolatedEnv(dir.path), ref, files, ["a.bin"]);
  // A cache directory that cannot be created, as under a read-only home (tests may run as
  // root, which ignores modes: a file in the way stops anyone).
  const blocker = join(dir.path, "cache-home");
  await Deno.writeTextFile(blocker, "not a directory");
  {
    const env = isolatedEnv(dir.path, {
      ARTIFACT_CLI_CACHE_DIR: join(blocker, "artifact-cli"),
      ARTIFACT_CLI_CACHE_MAX_BYTES: "",
    });
    const result = await runCli(["pull", ref, "-o", join(dir.path, "out")], { env });
    assert.equal(result.code, 0, result.stderr);
    const warnings = result.stderr.split("\n").filter((l) => l.startsWith("warning:"));
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(warnings[0], /content cache .* not usable/);
  }
});

Deno.test("cache info and prune: sizes, the cap evicts least recently used, --all empties", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const cache = join(dir.path, "cache");
  const env = cacheEnv(dir.path);
  const files = await setup(dir.path);
  await pushArtifact(env, `${registry.host}/team/cap:a`, files, ["a.bin"]);
  await pushArtifact(env, `${registry.host}/team/cap:b`, files, ["b.bin"]);
  await pull(env, `${registry.host}/team/cap:a`, join(dir.path, "a"));
  // Make the first pull's entries clearly older than the next one's.
  for await (const e of Deno.readDir(join(cache, "blobs", "sha256"))) {
    const old = new Date(Date.now() - 3600_000);
    await Deno.utime(join(cache, "blobs", "sha256", e.name), old, old);
  }
  const infoBefore = JSON.parse(
    (await runCli(["cache", "info", "--format", "json"], { env })).stdout,
  );
  assert.equal(infoBefore.dir, cache);
  assert.ok(infoBefore.entries >= 1 && infoBefore.bytes >= 200_000, JSON.stringify(infoBefore));
  assert.equal(infoBefore.maxBytes, 2 * 1024 * 1024 * 1024);

  // A cap of 300 kB holds one 200 kB layer: pulling b evicts a (least recently used).
  const capped = { ...env, ARTIFACT_CLI_CACHE_MAX_BYTES: "300000" };
  const b = await pull(capped, `${registry.host}/team/cap:b`, join(dir.path, "b"));
  const info = JSON.parse(
    (await runCli(["cache", "info", "--format", "json"], { env: capped })).stdout,
  );
  assert.ok(info.bytes <= 300_000, JSON.stringify(info));
  const bHex = b.json.layers[0].digest.slice("sha256:".length);
  await Deno.stat(join(cache, "blobs", "sha256", bHex));

  const prune = await runCli(["cache", "prune", "--all", "--format", "json"], { env });
  assert.equal(prune.code, 0, prune.stderr);
  assert.ok(JSON.parse(prune.stdout).removedEntries >= 1);
  const empty = JSON.parse((await runCli(["cache", "info", "--format", "json"], { env })).stdout);
  assert.equal(empty.entries, 0);
  assert.equal(empty.bytes, 0);

  const off = await runCli(["cache", "info"], { env: { ...env, ARTIFACT_CLI_CACHE_DIR: "off" } });
  assert.notEqual(off.code, 0);
  assert.match(off.stderr, /cache is off/);
});

Deno.test("copy from a registry reads blobs it downloaded before from the cache", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = cacheEnv(dir.path);
  const files = await setup(dir.path);
  const ref = `${registry.host}/team/copied:v1`;
  await pushArtifact(env, ref, files, ["a.bin", "b.bin"]);
  const first = await runCli(["copy", ref, `oci:${join(dir.path, "one")}:v1`], { env });
  assert.equal(first.code, 0, first.stderr);
  const mark = (await registry.settledRequests()).length;
  // A new layout holds nothing: without the cache every blob would be downloaded again.
  const second = await runCli(["copy", ref, `oci:${join(dir.path, "two")}:v1`], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await blobGets(registry, mark), []);
  const layers = await runCli([
    "pull",
    `oci:${join(dir.path, "two")}:v1`,
    "-o",
    join(dir.path, "out"),
  ], { env });
  assert.equal(layers.code, 0, layers.stderr);
  assert.deepEqual(
    await Deno.readFile(join(dir.path, "out", "b.bin")),
    await Deno.readFile(join(files, "b.bin")),
  );
});
