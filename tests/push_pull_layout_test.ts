import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { OCI } from "../src/oci/media_types.ts";
import { parseImageConfig, parseImageManifest } from "../src/oci/parse.ts";
import { pull } from "../src/pull/pull.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { runCli, runTool } from "./support/cli.ts";
import { FIXTURES } from "./support/fixtures.ts";
import { describeTree, makeFixtureSampleTree, makeSampleTree, tempDir } from "./support/tree.ts";

Deno.test("push then pull through an OCI layout gives back the same tree", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  await pushTree(layout, { inputs: [src], tag: "v1" });
  const out = join(dir.path, "out");
  await pull(layout, { tagOrDigest: "v1", output: out });
  assert.deepEqual(describeTree(out), describeTree(src));
});

Deno.test("the same tree gives the same digest: twice, from another path, after touch", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const first = await pushTree(layout, { inputs: [src], tag: "a" });
  const second = await pushTree(layout, { inputs: [src], tag: "b" });
  assert.equal(second.descriptor.digest, first.descriptor.digest);
  assert.deepEqual(Object.values(second.blobs), ["skipped", "skipped"]);

  const elsewhere = join(dir.path, "deeper", "copy");
  await Deno.mkdir(join(dir.path, "deeper"));
  await runTool("cp", ["-a", src, elsewhere]);
  await runTool("sh", ["-c", `find "${elsewhere}" -exec touch -h -d '2030-01-02 03:04:05' {} +`]);
  const third = await pushTree(layout, { inputs: [elsewhere], tag: "c" });
  assert.equal(third.descriptor.digest, first.descriptor.digest);

  await Deno.writeTextFile(join(elsewhere, "hello.txt"), "changed\n");
  const fourth = await pushTree(layout, { inputs: [elsewhere], tag: "d" });
  assert.notEqual(fourth.descriptor.digest, first.descriptor.digest);
});

Deno.test("a push without platform is one OCI manifest with an empty-platform config and the tool annotation", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const result = await pushTree(layout, { inputs: [src], tag: "v1", annotations: { "x.y": "z" } });
  const index = await layout.readIndex();
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].mediaType, OCI.manifest);
  const manifestBytes = await Deno.readFile(layout.blobPath(result.descriptor.digest));
  const manifest = parseImageManifest(manifestBytes);
  assert.equal(manifest.mediaType, OCI.manifest);
  assert.equal(manifest.annotations?.["dev.educates.artifact-cli.tool"], "artifact-cli");
  assert.match(manifest.annotations?.["dev.educates.artifact-cli.version"] ?? "", /^\d+\.\d+\.\d+/);
  assert.equal(manifest.annotations?.["x.y"], "z");
  assert.equal(manifest.config.mediaType, OCI.config);
  assert.equal(manifest.layers.length, 1);
  assert.equal(manifest.layers[0].mediaType, OCI.layerTarGzip);
  const config = parseImageConfig(await Deno.readFile(layout.blobPath(manifest.config.digest)));
  assert.equal(config.os, "");
  assert.equal(config.architecture, "");
  const layer = await Deno.readFile(layout.blobPath(manifest.layers[0].digest));
  assert.equal(sha256Digest(layer), manifest.layers[0].digest);
  assert.deepEqual(config.rootfs.diff_ids, [sha256Digest(zlib.gunzipSync(layer))]);
});

Deno.test("skopeo, umoci and oci-image-tool accept the layout we write", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const store = join(dir.path, "store");
  const layout = await OciLayout.open(store, { create: true });
  const result = await pushTree(layout, { inputs: [src], tag: "v1" });
  await runTool("oci-image-tool", ["validate", "--type", "image", "--ref", "name=v1", store]);
  const stat = await runTool("umoci", ["stat", "--image", `${store}:v1`]);
  assert.match(stat.stdout, /artifact-cli/);
  const raw = await runTool("skopeo", ["inspect", "--raw", `oci:${store}:v1`]);
  assert.equal(sha256Digest(new TextEncoder().encode(raw.stdout)), result.descriptor.digest);
  await runTool("skopeo", [
    "copy",
    "--quiet",
    `oci:${store}:v1`,
    `dir:${join(dir.path, "skopeo-dir")}`,
  ]);
});

Deno.test("the CLI pushes and pulls an OCI layout and prints ref@digest", async () => {
  await using dir = await tempDir();
  await makeSampleTree(join(dir.path, "src"));
  const push = await runCli(["push", "oci:./store:v1", "./src"], { cwd: dir.path });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout.trim(), /^oci:\.\/store@sha256:[0-9a-f]{64}$/);
  assert.equal(push.stderr, "");
  const pulled = await runCli(["pull", "oci:./store:v1", "-o", "./out", "--format", "json"], {
    cwd: dir.path,
  });
  assert.equal(pulled.code, 0, pulled.stderr);
  const json = JSON.parse(pulled.stdout);
  assert.equal(`oci:./store@${json.digest}`, push.stdout.trim());
  assert.equal(json.layers.length, 1);
  assert.deepEqual(describeTree(join(dir.path, "out")), describeTree(join(dir.path, "src")));
});

Deno.test(".git is left out by default and --exclude globs leave out more", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  await Deno.mkdir(join(src, ".git"));
  await Deno.writeTextFile(join(src, ".git", "HEAD"), "ref\n");
  await Deno.writeTextFile(join(src, "sub", "debug.log"), "log\n");
  await Deno.mkdir(join(src, "node_modules", "x"), { recursive: true });
  await Deno.writeTextFile(join(src, "node_modules", "x", "i.js"), "1\n");
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  await pushTree(layout, { inputs: [src], tag: "v1", exclude: ["*.log", "/node_modules/"] });
  const out = join(dir.path, "out");
  await pull(layout, { tagOrDigest: "v1", output: out });
  const names = describeTree(out).map((l) => l.split(" ")[0]);
  assert.ok(!names.some((n) => n.startsWith(".git")));
  assert.ok(!names.includes("sub/debug.log"));
  assert.ok(!names.some((n) => n.startsWith("node_modules")));
  assert.ok(names.includes("sub/nested.txt"));
});

Deno.test("pulling the skopeo-written imgpkg layout gives the fixture sample tree", async () => {
  await using dir = await tempDir();
  const expected = await makeFixtureSampleTree(join(dir.path, "expected"));
  const out = join(dir.path, "out");
  const layout = await OciLayout.open(join(FIXTURES, "imgpkg-layout"));
  const result = await pull(layout, { tagOrDigest: "v1", output: out });
  assert.equal(
    result.resolved.digest,
    "sha256:cae257280717876adc70c34039dd2706be19f14b47efcdbbdc1c7365586ad72a",
  );
  assert.deepEqual(describeTree(out, { modes: false }), describeTree(expected, { modes: false }));
});

Deno.test("pulling the buildah layout (an index) picks a platform entry and gives the sample tree", async () => {
  await using dir = await tempDir();
  const out = join(dir.path, "out");
  const layout = await OciLayout.open(join(FIXTURES, "buildah-layout"));
  const result = await pull(layout, {
    tagOrDigest: "v1",
    output: out,
    platform: { os: "linux", architecture: "arm64" },
  });
  assert.equal(result.selected.platform?.architecture, "arm64");
  const lines = describeTree(out);
  assert.ok(lines.includes("sample/link-to-hello symlink -> hello.txt"));
  assert.ok(lines.includes('sample/run.sh file 755 "#!/bin/sh\\necho hi\\n"'));
});

Deno.test("a failed pull leaves the output directory as it was", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const store = join(dir.path, "store");
  const layout = await OciLayout.open(store, { create: true });
  const result = await pushTree(layout, { inputs: [src], tag: "v1" });
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "keep.txt"), "precious\n");
  const before = describeTree(out);

  const missing = await runCli(["pull", `oci:${store}:nope`, "-o", out, "--force"]);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^error: tag "nope" not found .*\(tags: v1\)\n$/);

  // Corrupt the layer blob: same size, one byte flipped.
  const blobPath = layout.blobPath(result.layers[0].digest);
  const bytes = await Deno.readFile(blobPath);
  bytes[bytes.byteLength - 20] ^= 0x01;
  await Deno.writeFile(blobPath, bytes);
  const corrupt = await runCli(["pull", `oci:${store}:v1`, "-o", out, "--force"]);
  assert.equal(corrupt.code, 5, corrupt.stderr);
  assert.equal(corrupt.stderr.trim().split("\n").length, 1);
  assert.deepEqual(describeTree(out), before);
  const leftovers = [...Deno.readDirSync(dir.path)].map((e) => e.name).filter((n) =>
    n.includes("artifact-cli")
  );
  assert.deepEqual(leftovers, []);
});

Deno.test("pull refuses to replace the current directory", async () => {
  await using dir = await tempDir();
  await makeSampleTree(join(dir.path, "src"));
  assert.equal((await runCli(["push", "oci:store:v1", "src"], { cwd: dir.path })).code, 0);
  const result = await runCli(["pull", "oci:store:v1", "-o", "."], { cwd: dir.path });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /contains the current directory/);
});

Deno.test("a layout keeps one entry per tag and resolves an untagged single manifest", async () => {
  await using dir = await tempDir();
  const src = await makeSampleTree(join(dir.path, "src"));
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const a = await pushTree(layout, { inputs: [src], tag: "v1" });
  assert.deepEqual((await layout.resolve()).digest, a.descriptor.digest);
  await Deno.writeTextFile(join(src, "new.txt"), "new\n");
  const b = await pushTree(layout, { inputs: [src], tag: "v1" });
  assert.deepEqual(await layout.listTags(), ["v1"]);
  assert.equal((await layout.resolve("v1")).digest, b.descriptor.digest);
  assert.equal((await layout.resolve(a.descriptor.digest)).digest, a.descriptor.digest);
  await layout.tag(a.descriptor, "old");
  assert.deepEqual(await layout.listTags(), ["old", "v1"]);
});
