/**
 * Files a flag, a config or the environment names may be controlled by
 * someone else (a config in a cloned repository, a shared DOCKER_CONFIG).
 * Each class of hostile file — a FIFO, a device behind a symlink, a
 * directory, a file over its limit, a /proc file that reports size 0 — is
 * refused in one line naming the file and where its name came from, with
 * exit 2 for flags and configs and 4 for credential files, and never hangs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";

const HANG_MS = 30_000;

/** A hostile file of each class at `dir/name`, and the words its error says. */
async function hostileFiles(dir: string): Promise<{ kind: string; path: string; says: RegExp }[]> {
  await Deno.mkdir(dir, { recursive: true });
  const fifo = join(dir, "fifo");
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  const zero = join(dir, "zero");
  await Deno.symlink("/dev/zero", zero);
  const directory = join(dir, "directory");
  await Deno.mkdir(directory);
  const huge = join(dir, "huge");
  const file = await Deno.open(huge, { write: true, create: true });
  await file.truncate(64 * 1024 * 1024 + 1); // sparse: over every named-file limit
  file.close();
  return [
    { kind: "FIFO", path: fifo, says: /is a FIFO, expected a regular file/ },
    { kind: "device", path: zero, says: /is a character device, expected a regular file/ },
    { kind: "directory", path: directory, says: /is a directory, expected a regular file/ },
    { kind: "oversized", path: huge, says: /bytes, over the limit of/ },
    { kind: "size-0 /proc", path: "/proc/self/pagemap", says: /over the limit of/ },
  ];
}

function assertOneLine(
  stderr: string,
  code: number,
  expected: number,
  path: string,
  source: string,
  says: RegExp,
) {
  assert.equal(code, expected, stderr);
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.ok(lines[0].includes(source), `names ${source}: ${stderr}`);
  assert.ok(lines[0].includes(path), `names ${path}: ${stderr}`);
  assert.match(lines[0], says);
}

Deno.test("flags and configs that name a hostile file fail with exit 2 naming the flag and the file", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  const env = isolatedEnv(cwd);
  await Deno.writeTextFile(join(cwd, "a.txt"), "a\n");
  await Deno.writeTextFile(
    join(cwd, "sync.yml"),
    "artifacts:\n  - image: oci:store:a\n    path: a\n",
  );
  const files = await hostileFiles(join(cwd, "hostile"));
  // Each push names its own layout: a refused push must leave none behind.
  const uses: { source: string; args: (f: string, n: number) => string[] }[] = [
    {
      source: "--annotation-file",
      args: (f, n) => ["push", `oci:store-${n}:a`, "a.txt", "--annotation-file", f],
    },
    {
      source: "--config",
      args: (f, n) => [
        "push",
        `oci:store-${n}:a`,
        "a.txt",
        "--artifact-type",
        "application/x.t",
        "--config",
        f,
      ],
    },
    { source: "sync -c", args: (f) => ["sync", "-c", f] },
    { source: "--lock-file", args: (f) => ["sync", "-c", "sync.yml", "--lock-file", f] },
    // Nothing listens there: the CA file is read before any connection.
    { source: "--ca-file", args: (f) => ["pull", "127.0.0.1:9/a:v1", "-o", "out", "--ca-file", f] },
  ];
  let n = 0;
  await Promise.all(uses.flatMap(({ source, args }) =>
    files.map(async ({ kind, path, says }) => {
      const result = await runCli(args(path, n++), { cwd, env, timeoutMs: HANG_MS });
      assert.equal(result.signal, null, `${source} ${kind}: hung`);
      assertOneLine(result.stderr, result.code, 2, path, source, says);
    })
  ));
  const left = [...Deno.readDirSync(cwd)].map((e) => e.name).filter((e) => e.startsWith("store"));
  assert.deepEqual(left, [], "a refused push left a layout behind");
});

Deno.test("credential files that are hostile fail with exit 4 naming DOCKER_CONFIG or REGISTRY_AUTH_FILE", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { u: "p" } });
  const files = await hostileFiles(join(dir.path, "hostile"));
  await Promise.all(files.flatMap(({ kind, path, says }, i) => {
    const pullArgs = (out: string) => [
      "pull",
      `${registry.host}/a:v1`,
      "-o",
      join(dir.path, out),
      "--ca-file",
      registry.caFile!,
    ];
    const docker = async () => {
      const config = join(dir.path, `docker-${i}`);
      await Deno.mkdir(config);
      await Deno.symlink(path, join(config, "config.json"));
      const env = isolatedEnv(dir.path, { DOCKER_CONFIG: config });
      const result = await runCli(pullArgs(`d${i}`), { env, timeoutMs: HANG_MS });
      assert.equal(result.signal, null, `DOCKER_CONFIG ${kind}: hung`);
      assertOneLine(
        result.stderr,
        result.code,
        4,
        join(config, "config.json"),
        "DOCKER_CONFIG",
        says,
      );
    };
    const podman = async () => {
      const env = isolatedEnv(dir.path, { REGISTRY_AUTH_FILE: path });
      const result = await runCli(pullArgs(`p${i}`), { env, timeoutMs: HANG_MS });
      assert.equal(result.signal, null, `REGISTRY_AUTH_FILE ${kind}: hung`);
      assertOneLine(result.stderr, result.code, 4, path, "REGISTRY_AUTH_FILE", says);
    };
    return [docker(), podman()];
  }));
});

Deno.test("named files at their limit or below are read as before", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await Deno.writeTextFile(join(cwd, "a.txt"), "a\n");
  // A link to a regular file is followed: the user named it.
  await Deno.writeTextFile(join(cwd, "real.json"), JSON.stringify({ "$manifest": { k: "v" } }));
  await Deno.symlink("real.json", join(cwd, "annotations.json"));
  const result = await runCli(
    ["push", "oci:store:a", "a.txt", "--annotation-file", "annotations.json", "--format", "json"],
    { cwd, env: isolatedEnv(cwd) },
  );
  assert.equal(result.code, 0, result.stderr);
  const layout = JSON.parse(await Deno.readTextFile(join(cwd, "store", "index.json")));
  assert.equal(layout.manifests.length, 1);
});
