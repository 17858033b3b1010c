import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { inspect } from "../src/format/inspect.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { OCI } from "../src/oci/media_types.ts";
import { parseImageConfig, parseImageIndex, parseImageManifest } from "../src/oci/parse.ts";
import { runCli, runTool } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

const TOOL = "dev.educates.artifact-cli.tool";

async function readBlob(layout: OciLayout, digest: string): Promise<Uint8Array> {
  return await Deno.readFile(layout.blobPath(digest as `sha256:${string}`));
}

Deno.test("push --platform a,b: a buildx-shaped index, one shared layer, platform configs, tool annotations everywhere", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const push = await runCli(
    ["push", "oci:store:v1", src, "--platform", "linux/amd64,linux/arm64/v8", "--format", "json"],
    { cwd: dir.path },
  );
  assert.equal(push.code, 0, push.stderr);
  const result = JSON.parse(push.stdout);
  assert.equal(result.mediaType, OCI.index);
  assert.equal(result.layers.length, 1);
  assert.equal(result.manifests.length, 2);

  const layout = await OciLayout.open(join(dir.path, "store"));
  const index = parseImageIndex(await readBlob(layout, result.digest));
  assert.equal(index.mediaType, OCI.index);
  assert.equal(index.annotations?.[TOOL], "artifact-cli");
  assert.deepEqual(index.manifests.map((m) => m.platform), [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64", variant: "v8" },
  ]);
  const layerDigests = new Set<string>();
  for (const entry of index.manifests) {
    assert.equal(entry.mediaType, OCI.manifest);
    const manifest = parseImageManifest(await readBlob(layout, entry.digest));
    assert.equal(manifest.annotations?.[TOOL], "artifact-cli");
    assert.equal(manifest.config.mediaType, OCI.config);
    const config = parseImageConfig(await readBlob(layout, manifest.config.digest));
    assert.equal(config.os, entry.platform!.os);
    assert.equal(config.architecture, entry.platform!.architecture);
    assert.equal(config.variant, entry.platform!.variant);
    const layer = await readBlob(layout, manifest.layers[0].digest);
    assert.deepEqual(config.rootfs.diff_ids, [sha256Digest(zlib.gunzipSync(layer))]);
    layerDigests.add(manifest.layers[0].digest);
  }
  assert.equal(layerDigests.size, 1);

  const found = await inspect(layout, await layout.resolve("v1"));
  assert.equal(found.format.kind, "artifact-cli-index");

  // Deterministic: the same command from another place gives the same index digest.
  await Deno.mkdir(join(dir.path, "elsewhere"));
  const again = await runCli(
    ["push", "oci:other:v2", "../src", "--platform", "linux/amd64", "--platform", "linux/arm64/v8"],
    { cwd: join(dir.path, "elsewhere") },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), `oci:other@${result.digest}`);
});

Deno.test("push --platform os/arch=DIR: a tree per platform; pull --platform gets each back", async () => {
  await using dir = await tempDir();
  const a = await makeSampleTree(join(dir.path, "a"));
  const b = join(dir.path, "b");
  await Deno.mkdir(b);
  await Deno.writeTextFile(join(b, "only-arm.txt"), "arm\n");
  const push = await runCli([
    "push",
    "oci:store:v1",
    "--platform",
    "linux/amd64=./a",
    "--platform",
    "linux/aarch64=./b",
    "--format",
    "json",
  ], { cwd: dir.path });
  assert.equal(push.code, 0, push.stderr);
  const result = JSON.parse(push.stdout);
  assert.equal(result.layers.length, 2);
  assert.deepEqual(
    result.manifests.map((m: { platform: unknown }) => m.platform),
    [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
  );
  for (const [platform, expected] of [["linux/amd64", a], ["linux/arm64", b]]) {
    const pulled = await runCli(["pull", "oci:store:v1", "-o", "out", "--platform", platform], {
      cwd: dir.path,
    });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(describeTree(join(dir.path, "out")), describeTree(expected));
  }
  // Without --platform: the host's entry (both hosts we run on are listed).
  const host = await runCli(["pull", "oci:store:v1", "-o", "host", "--format", "json"], {
    cwd: dir.path,
    env: { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/arm64" },
  });
  assert.equal(host.code, 0, host.stderr);
  assert.equal(JSON.parse(host.stdout).format, "artifact-cli");
  assert.deepEqual(describeTree(join(dir.path, "host")), describeTree(b));
});

Deno.test("push --platform: bad combinations are usage errors", async () => {
  await using dir = await tempDir();
  await makeSampleTree(join(dir.path, "src"));
  const cases: [string[], RegExp][] = [
    [
      ["--platform", "linux/amd64=src", "--platform", "linux/arm64"],
      /for every platform .* or for none/,
    ],
    [["src", "--platform", "linux/amd64=src"], /do not also give paths/],
    [["src", "--platform", "linux/amd64,linux/x86_64"], /linux\/amd64 is given twice/],
    [["src", "--platform", "linux"], /invalid platform "linux"/],
    [["src:text/plain", "--platform", "linux/amd64"], /cannot be combined with artifact options/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(["push", "oci:store:v1", ...args], { cwd: dir.path });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  }
  assert.ok(!(await Deno.stat(join(dir.path, "store", "index.json")).catch(() => null)));
});

Deno.test("skopeo inspect --raw and skopeo copy --all accept our single and multi-platform pushes; buildah (vfs) pulls the arm64 image", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const src = await makeSampleTree(join(dir.path, "src"));
  const store = join(dir.path, "store");
  for (
    const [tag, extra] of [["single", []], ["multi", ["--platform", "linux/amd64,linux/arm64"]]]
  ) {
    const push = await runCli(["push", `oci:${store}:${tag}`, src, ...extra]);
    assert.equal(push.code, 0, push.stderr);
    const digest = push.stdout.trim().split("@")[1];
    const raw = await runTool("skopeo", ["inspect", "--raw", `oci:${store}:${tag}`]);
    assert.equal(sha256Digest(new TextEncoder().encode(raw.stdout)), digest);
    const dest = `docker://${registry.host}/ours/${tag}:v1`;
    await runTool("skopeo", [
      "copy",
      "--all",
      "--quiet",
      "--preserve-digests",
      "--dest-tls-verify=false",
      `oci:${store}:${tag}`,
      dest,
    ]);
    const remote = await runTool("skopeo", ["inspect", "--raw", "--tls-verify=false", dest]);
    assert.equal(remote.stdout, raw.stdout, "the registry stores our bytes unchanged");
    await runTool("skopeo", [
      "copy",
      "--all",
      "--quiet",
      "--src-tls-verify=false",
      dest,
      `oci:${join(dir.path, `back-${tag}`)}:v1`,
    ]);
  }

  // buildah pulls the multi-platform push from the registry and picks arm64.
  const buildah = [
    "--root",
    join(dir.path, "buildah-root"),
    "--runroot",
    join(dir.path, "buildah-run"),
    "--storage-driver",
    "vfs",
  ];
  const pulled = await runTool("buildah", [
    ...buildah,
    "pull",
    "--quiet",
    "--tls-verify=false",
    "--arch",
    "arm64",
    `docker://${registry.host}/ours/multi:v1`,
  ]);
  const imageId = pulled.stdout.trim().split("\n").at(-1)!;
  const arch = await runTool("buildah", [
    ...buildah,
    "inspect",
    "--type",
    "image",
    "--format",
    "{{.OCIv1.OS}}/{{.OCIv1.Architecture}}",
    imageId,
  ]);
  assert.equal(arch.stdout.trim(), "linux/arm64");
  const container = (await runTool("buildah", [...buildah, "from", "--quiet", imageId])).stdout
    .trim();
  const root = (await runTool("buildah", [...buildah, "mount", container])).stdout.trim();
  assert.deepEqual(describeTree(root), describeTree(src));
  await runTool("buildah", [...buildah, "rm", container]);
});

Deno.test("push --platform into a layout lists only the index in index.json; its platform images resolve by digest", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(join(dir.path, "src"));
  await Deno.writeTextFile(join(dir.path, "src", "a.txt"), "a\n");
  const push = await runCli(
    ["push", "oci:store:v1", "src", "--platform", "linux/amd64,linux/arm64", "--format", "json"],
    { cwd: dir.path },
  );
  assert.equal(push.code, 0, push.stderr);
  const pushed = JSON.parse(push.stdout);
  const layout = JSON.parse(await Deno.readTextFile(join(dir.path, "store", "index.json")));
  assert.deepEqual(layout.manifests.map((m: { digest: string }) => m.digest), [pushed.digest]);
  const index = JSON.parse(
    await Deno.readTextFile(join(dir.path, "store", "blobs", "sha256", pushed.digest.slice(7))),
  );
  const arm = index.manifests.find((m: { platform: { architecture: string } }) =>
    m.platform.architecture === "arm64"
  );
  const pull = await runCli(["pull", `oci:store@${arm.digest}`, "-o", "out"], { cwd: dir.path });
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(await Deno.readTextFile(join(dir.path, "out", "a.txt")), "a\n");
  await runTool("skopeo", ["inspect", "--raw", `oci:${join(dir.path, "store")}:v1`]);
});
