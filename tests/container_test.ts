/**
 * The container image, built and run as Kubernetes runs it. The image comes
 * from scripts/build_image.sh (buildah, FROM scratch, no Docker, no network),
 * is unpacked with umoci and run with runc as uid 1001 with a read-only root,
 * the output on a writable bind mount, /tmp given as a mount, and the host's
 * network (no network namespace) so the loopback test registry is reachable.
 * After every run the root filesystem and the read-only inputs must be as they
 * were, and /tmp may hold only Deno's cache. Then the image goes to the test
 * registry with our own `copy` and comes back with skopeo.
 *
 * Needs root, buildah, umoci, runc and skopeo; without them the tests are
 * ignored and their names say why.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startRegistry } from "./support/registry.ts";
import { runCli, runTool } from "./support/cli.ts";
import { describeTree, makeSampleTree } from "./support/tree.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TOOLS = ["buildah", "umoci", "runc", "skopeo"];
const missing = TOOLS.filter((tool) =>
  !Deno.env.get("PATH")?.split(":").some((dir) => {
    try {
      return Deno.statSync(join(dir, tool)).isFile;
    } catch {
      return false;
    }
  })
);
const reason = Deno.uid() !== 0
  ? "needs root for runc"
  : missing.length
  ? `needs ${missing.join(", ")} on PATH`
  : "";
const ignore = reason !== "";
const named = (name: string) => ignore ? `${name} (ignored: ${reason})` : name;

/** Image compressed size (config, manifest and layers) must stay below this. */
const MAX_IMAGE_BYTES = 60 * 1024 * 1024;
const UID = 1001;
const TAG = "test";

interface ImageConfig {
  architecture: string;
  os: string;
  config: {
    User: string;
    Entrypoint: string[];
    Cmd?: string[];
    WorkingDir: string;
    Env: string[];
  };
}

interface Built {
  dir: string;
  layout: string;
  rootfs: string;
  spec: Record<string, unknown> & { process: { env: string[] } };
  config: ImageConfig;
  bytes: number;
  snapshot: string[];
}

let built: Promise<Built> | undefined;
/** Build and unpack the image once for this file; removed when the test process ends. */
function image(): Promise<Built> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "artifact-cli-image-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const layout = join(dir, "layout");
    const build = await runTool("bash", [join(ROOT, "scripts/build_image.sh"), layout, TAG], {
      cwd: ROOT,
    });
    assert.equal(build.stdout.trim(), `oci:${layout}:${TAG}`);
    await runTool("umoci", ["unpack", "--image", `${layout}:${TAG}`, join(dir, "bundle")]);
    const index = JSON.parse(await Deno.readTextFile(join(layout, "index.json")));
    const manifest = JSON.parse(await Deno.readTextFile(blob(layout, index.manifests[0].digest)));
    const config = JSON.parse(await Deno.readTextFile(blob(layout, manifest.config.digest)));
    const bytes = index.manifests[0].size + manifest.config.size +
      manifest.layers.reduce((sum: number, l: { size: number }) => sum + l.size, 0);
    const rootfs = join(dir, "bundle", "rootfs");
    const spec = JSON.parse(await Deno.readTextFile(join(dir, "bundle", "config.json")));
    const img = { dir, layout, rootfs, spec, config, bytes, snapshot: [] as string[] };
    // runc makes the mount points (/proc, /out, ...) in the root before making it
    // read-only: one run makes them, so the snapshot after it shows only later writes.
    const version = await runImage(img, ["--version"], (await workspace(img)).mounts);
    assert.equal(version.code, 0, version.stderr);
    return { ...img, snapshot: await snapshot(rootfs) };
  })();
  return built;
}

function blob(layout: string, digest: string): string {
  return join(layout, "blobs", ...digest.split(":"));
}

/** Every entry under `root` with type, mode, owner, size and mtime: any write shows. */
async function snapshot(root: string): Promise<string[]> {
  const out = await runTool("find", [root, "-printf", "%P %y %m %U:%G %s %T@\\n"]);
  return out.stdout.trim().split("\n").sort();
}

interface Mount {
  /** Where it appears in the container. */
  at: string;
  /** Host directory. */
  from: string;
  readonly?: boolean;
}

let runs = 0;
/**
 * Run the image's entrypoint with `args` under runc: uid 1001, read-only
 * root, the given bind mounts, no network namespace (the host's loopback).
 */
async function runImage(img: Built, args: string[], mounts: Mount[]) {
  const bundle = await Deno.makeTempDir({ dir: img.dir, prefix: "run-" });
  // The runtime spec umoci wrote, edited as plain JSON.
  // deno-lint-ignore no-explicit-any
  const spec = structuredClone(img.spec) as Record<string, any>;
  spec.root = { path: img.rootfs, readonly: true };
  spec.process.terminal = false;
  spec.process.args = [...img.config.config.Entrypoint, ...args];
  assert.deepEqual(spec.process.user, { uid: UID, gid: UID }, "umoci took the user from the image");
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) =>
    n.type !== "network"
  );
  for (const m of mounts) {
    spec.mounts.push({
      destination: m.at,
      type: "bind",
      source: m.from,
      options: ["rbind", m.readonly ? "ro" : "rw"],
    });
  }
  await Deno.writeTextFile(join(bundle, "config.json"), JSON.stringify(spec));
  const id = `artifact-cli-test-${Deno.pid}-${++runs}`;
  const out = await new Deno.Command("runc", {
    args: ["--root", join(img.dir, "runc-state"), "run", "--bundle", bundle, id],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Host directories for one run: out and tmp writable by uid 1001, in read-only. */
async function workspace(img: Built) {
  const base = await Deno.makeTempDir({ dir: img.dir, prefix: "ws-" });
  const dirs = { out: join(base, "out"), tmp: join(base, "tmp"), in: join(base, "in") };
  for (const d of Object.values(dirs)) await Deno.mkdir(d);
  await Deno.chown(dirs.out, UID, UID);
  await Deno.chown(dirs.tmp, UID, UID);
  const mounts: Mount[] = [
    { at: "/out", from: dirs.out },
    { at: "/tmp", from: dirs.tmp },
    { at: "/in", from: dirs.in, readonly: true },
  ];
  return { ...dirs, mounts };
}

/**
 * Nothing changed in the root filesystem or the inputs, and /tmp holds caches
 * at most: Deno's (DENO_DIR=/tmp/deno) and ours (~/.cache/artifact-cli, HOME
 * being /tmp for uid 1001), nothing a pull or push left behind.
 */
async function assertWroteOnlyOutput(img: Built, ws: { in: string; tmp: string }, input: string[]) {
  assert.deepEqual(await snapshot(img.rootfs), img.snapshot, "the root filesystem changed");
  assert.deepEqual(describeTree(ws.in), input, "a read-only input changed");
  const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  const left = names(ws.tmp).filter((n) => n !== "deno");
  if (left.includes(".cache")) assert.deepEqual(names(join(ws.tmp, ".cache")), ["artifact-cli"]);
  assert.deepEqual(left.filter((n) => n !== ".cache"), [], "files left in /tmp besides caches");
}

Deno.test({
  name: named("the image pulls from a registry as uid 1001 with a read-only root"),
  ignore,
  async fn() {
    const img = await image();
    await using registry = await startRegistry();
    const ws = await workspace(img);
    await makeSampleTree(join(ws.in, "src"));
    const input = describeTree(ws.in);
    const ref = `${registry.host}/workshop/files:v1`;
    assert.equal((await runCli(["push", ref, join(ws.in, "src")])).code, 0);

    const pulled = await runImage(img, ["pull", ref, "-o", "/out/workshop"], ws.mounts);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(describeTree(join(ws.out, "workshop")), describeTree(join(ws.in, "src")));
    const owner = Deno.statSync(join(ws.out, "workshop", "hello.txt"));
    assert.deepEqual([owner.uid, owner.gid], [UID, UID]);
    await assertWroteOnlyOutput(img, ws, input);

    // The root really is read-only: the same pull into the working directory fails.
    const onRoot = await runImage(img, ["pull", ref, "-o", "/workspace/files"], ws.mounts);
    assert.notEqual(onRoot.code, 0);
    assert.equal(onRoot.stderr.trim().split("\n").length, 1, onRoot.stderr);
    await assertWroteOnlyOutput(img, ws, input);
  },
});

Deno.test({
  name: named("the image pulls the platform asked for out of a multi-platform index"),
  ignore,
  async fn() {
    const img = await image();
    await using registry = await startRegistry();
    const ws = await workspace(img);
    for (const arch of ["amd64", "arm64"]) {
      await Deno.mkdir(join(ws.in, arch));
      await Deno.writeTextFile(join(ws.in, arch, "arch.txt"), `${arch}\n`);
    }
    const input = describeTree(ws.in);
    const ref = `${registry.host}/workshop/multi:v1`;
    const push = await runCli([
      "push",
      ref,
      "--platform",
      `linux/amd64=${join(ws.in, "amd64")},linux/arm64=${join(ws.in, "arm64")}`,
    ]);
    assert.equal(push.code, 0, push.stderr);
    for (const arch of ["arm64", "amd64"]) {
      const args = ["pull", ref, "-p", `linux/${arch}`, "-o", `/out/${arch}`];
      const pulled = await runImage(img, args, ws.mounts);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.deepEqual(describeTree(join(ws.out, arch), { modes: false }), [
        `arch.txt file "${arch}\\n"`,
      ]);
    }
    await assertWroteOnlyOutput(img, ws, input);
  },
});

Deno.test({
  name: named("the image syncs from a mounted config and writes its lock file to the output"),
  ignore,
  async fn() {
    const img = await image();
    await using registry = await startRegistry();
    const ws = await workspace(img);
    await makeSampleTree(join(ws.in, "a"));
    await Deno.mkdir(join(ws.in, "b"));
    await Deno.writeTextFile(join(ws.in, "b", "b.txt"), "b\n");
    for (const name of ["a", "b"]) {
      const push = await runCli(["push", `${registry.host}/sync/${name}:v1`, join(ws.in, name)]);
      assert.equal(push.code, 0, push.stderr);
    }
    await Deno.writeTextFile(
      join(ws.in, "sync.yml"),
      `artifacts:
  - image: ${registry.host}/sync/a:v1
    path: files/a
    excludePaths: ["sub/"]
  - image: ${registry.host}/sync/b:v1
    path: files/b
`,
    );
    const input = describeTree(ws.in);
    const args = ["sync", "-c", "/in/sync.yml", "-o", "/out", "--lock-file", "/out/sync.lock"];
    const synced = await runImage(img, args, ws.mounts);
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(
      describeTree(join(ws.out, "files", "a")).map((l) => l.split(" ")[0]),
      ["data.json", "empty-dir", "empty.txt", "hello.txt", "link-to-hello", "run.sh"],
    );
    assert.deepEqual(describeTree(join(ws.out, "files", "b"), { modes: false }), [
      'b.txt file "b\\n"',
    ]);
    assert.match(await Deno.readTextFile(join(ws.out, "sync.lock")), /sha256:[0-9a-f]{64}/);
    await assertWroteOnlyOutput(img, ws, input);
  },
});

Deno.test({
  name: named("the image pushes a mounted read-only directory"),
  ignore,
  async fn() {
    const img = await image();
    await using registry = await startRegistry();
    const ws = await workspace(img);
    await makeSampleTree(join(ws.in, "src"));
    const input = describeTree(ws.in);
    const ref = `${registry.host}/workshop/pushed:v1`;
    const pushed = await runImage(img, ["push", ref, "/in/src", "--format", "json"], ws.mounts);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(JSON.parse(pushed.stdout).digest, /^sha256:[0-9a-f]{64}$/);
    await assertWroteOnlyOutput(img, ws, input);

    const back = join(img.dir, "pushed-back");
    const pulled = await runCli(["pull", ref, "-o", back]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(describeTree(back), describeTree(join(ws.in, "src")));
  },
});

Deno.test({
  name: named("the image runs with no writable /tmp at all (Deno's cache is optional)"),
  ignore,
  async fn() {
    const img = await image();
    await using registry = await startRegistry();
    const ws = await workspace(img);
    await makeSampleTree(join(ws.in, "src"));
    const ref = `${registry.host}/workshop/files:v1`;
    assert.equal((await runCli(["push", ref, join(ws.in, "src")])).code, 0);
    const mounts = ws.mounts.filter((m) => m.at !== "/tmp");
    const pulled = await runImage(img, ["pull", ref, "-o", "/out/workshop"], mounts);
    assert.equal(pulled.code, 0, pulled.stderr);
    // The content cache (under HOME=/tmp) cannot be made: one warning, nothing else.
    assert.match(
      pulled.stderr,
      /^warning: content cache \S+ is not usable, continuing without it \([^\n]*\)\n$/,
    );
    assert.deepEqual(describeTree(join(ws.out, "workshop")), describeTree(join(ws.in, "src")));
    assert.deepEqual(await snapshot(img.rootfs), img.snapshot);
  },
});

Deno.test({
  name: named("the image goes to a registry with our copy and skopeo reads it back"),
  ignore,
  async fn() {
    const img = await image();
    await using registry = await startRegistry();
    const ref = `${registry.host}/tools/artifact-cli:${TAG}`;
    const copied = await runCli(["copy", `oci:${img.layout}:${TAG}`, ref]);
    assert.equal(copied.code, 0, copied.stderr);

    const back = join(img.dir, "skopeo-layout");
    await runTool("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${ref}`,
      `oci:${back}:${TAG}`,
    ]);
    const inspect = async (...flags: string[]) =>
      JSON.parse(
        (await runTool("skopeo", ["inspect", "--tls-verify=false", ...flags, `docker://${ref}`]))
          .stdout,
      );
    const config: ImageConfig = await inspect("--config");
    assert.deepEqual(config, img.config, "the registry serves the config buildah wrote");
    assert.deepEqual(config.config.Entrypoint, [
      "deno",
      "run",
      "-A",
      "--no-prompt",
      "--v8-flags=--max-semi-space-size=1,--expose-gc",
      "/usr/local/lib/artifact-cli.js",
    ]);
    assert.equal(config.config.User, `${UID}:${UID}`);
    assert.equal(config.config.WorkingDir, "/workspace");
    assert.equal(config.os, "linux");
    assert.equal(config.architecture, { x86_64: "amd64", aarch64: "arm64" }[Deno.build.arch]);
    const fromLayout = await runTool("skopeo", ["inspect", "--config", `oci:${back}:${TAG}`]);
    assert.deepEqual(JSON.parse(fromLayout.stdout), img.config);

    assert.ok(img.bytes < MAX_IMAGE_BYTES, `image is ${img.bytes} bytes`);
    console.log(`image size: ${(img.bytes / 1e6).toFixed(1)} MB compressed`);
  },
});

Deno.test({
  name: named("the Dockerfile gives the image the same entrypoint, cmd, user, workdir and env"),
  ignore,
  async fn() {
    const img = await image();
    const dockerfile = await Deno.readTextFile(join(ROOT, "Dockerfile"));
    // The final stage: everything after the last FROM, continuation lines joined.
    const stage = dockerfile.replace(/\\\n/g, " ").split(/^FROM .*$/m).at(-1)!.split("\n");
    const instr = (name: string) =>
      stage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
    const c = img.config.config;
    assert.deepEqual(instr("ENTRYPOINT").map((v) => JSON.parse(v)), [c.Entrypoint]);
    assert.deepEqual(instr("CMD").map((v) => JSON.parse(v)), [c.Cmd]);
    assert.deepEqual(instr("USER"), [c.User]);
    assert.deepEqual(instr("WORKDIR"), [c.WorkingDir]);
    assert.deepEqual(instr("ENV").flatMap((v) => v.split(/\s+/)).sort(), [...c.Env].sort());
    const bundle = c.Entrypoint.at(-1)!;
    assert.ok(instr("COPY").some((v) => v.endsWith(` ${bundle}`)), "the bundle's path");
    // Both put deno at /usr/bin/deno (denoland/deno's place) and uid 1001 home /tmp.
    assert.ok(Deno.statSync(join(img.rootfs, "usr/bin/deno")).isFile);
    assert.match(await Deno.readTextFile(join(img.rootfs, "etc/passwd")), /:1001:1001:.*:\/tmp:/);
    assert.match(stage.join("\n"), /useradd -u 1001 -g 1001 -d \/tmp /);
  },
});
