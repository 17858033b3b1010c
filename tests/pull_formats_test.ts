import assert from "node:assert/strict";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { DOCKER, OCI } from "../src/oci/media_types.ts";
import { normalizePlatform } from "../src/oci/platform.ts";
import { pull } from "../src/pull/pull.ts";
import { runCli, runTool } from "./support/cli.ts";
import { FIXTURES } from "./support/fixtures.ts";
import {
  buildahFixtureLayout,
  buildxLayout,
  gzip,
  imgpkgFixtureLayout,
  storeImage,
  tarOf,
  zstd,
} from "./support/layouts.ts";
import { describeTree, makeFixtureSampleTree, tempDir } from "./support/tree.ts";

/** The sample tree as buildah pushed it: under `sample/`, with the symlink. */
async function buildahSampleTree(root: string): Promise<string> {
  await makeFixtureSampleTree(join(root, "sample"));
  await Deno.symlink("hello.txt", join(root, "sample", "link-to-hello"));
  return root;
}

Deno.test("pull: the imgpkg fixture gives the exact sample tree, owner bits copied to group/other as imgpkg does", async () => {
  await using dir = await tempDir();
  const expected = await makeFixtureSampleTree(join(dir.path, "expected"));
  const layout = await imgpkgFixtureLayout(join(dir.path, "store"), "imgpkg");
  const out = join(dir.path, "out");
  const result = await pull(layout, { tagOrDigest: "v1", output: out });
  assert.equal(result.selected.format.kind, "imgpkg-image");
  // The layer stores rw------- / rwx------; imgpkg pulls them as 644 / 755 (umask 022).
  assert.equal(Deno.umask(), 0o022);
  assert.deepEqual(describeTree(out), describeTree(expected));
  assert.ok(describeTree(out).includes('run.sh file 755 "#!/bin/sh\\necho hi\\n"'));
  assert.ok(describeTree(out).includes("sub dir 755"));
});

Deno.test("pull: the skopeo-written imgpkg layout gives the exact sample tree with imgpkg's modes", async () => {
  await using dir = await tempDir();
  const expected = await makeFixtureSampleTree(join(dir.path, "expected"));
  const out = join(dir.path, "out");
  const result = await pull(await OciLayout.open(join(FIXTURES, "imgpkg-layout")), {
    tagOrDigest: "v1",
    output: out,
  });
  assert.equal(result.selected.format.kind, "imgpkg-image");
  assert.deepEqual(describeTree(out), describeTree(expected));
});

Deno.test("pull: an imgpkg image converted to OCI media types (skopeo --format oci) is still imgpkg, with imgpkg's modes", async () => {
  await using dir = await tempDir();
  const expected = await makeFixtureSampleTree(join(dir.path, "expected"));
  const converted = join(dir.path, "converted");
  await runTool("skopeo", [
    "copy",
    "--quiet",
    "--format",
    "oci",
    // skopeo 1.9 finds a Docker manifest in a layout only untagged (its tag lookup wants OCI types).
    `oci:${join(FIXTURES, "imgpkg-layout")}`,
    `oci:${converted}:v1`,
  ]);
  const out = join(dir.path, "out");
  const result = await pull(await OciLayout.open(converted), { tagOrDigest: "v1", output: out });
  // skopeo really converted it: OCI manifest and config, the history kept.
  assert.ok(result.selected.format.evidence.includes(`media type ${OCI.manifest}`));
  assert.ok(result.selected.format.evidence.includes(`config media type ${OCI.config}`));
  assert.equal(result.selected.format.kind, "imgpkg-image");
  assert.deepEqual(describeTree(out), describeTree(expected));
});

Deno.test("pull: an imgpkg bundle pulls like an image, with a note that nested images are not fetched", async () => {
  await using dir = await tempDir();
  await imgpkgFixtureLayout(join(dir.path, "store"), "imgpkg-bundle");
  const result = await runCli(["pull", `oci:${join(dir.path, "store")}:v1`, "-o", "out"], {
    cwd: dir.path,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /imgpkg bundle; .*images listed in \.imgpkg\/images\.yml are not fetched/,
  );
  const tree = describeTree(join(dir.path, "out"));
  assert.deepEqual(tree.map((l) => l.split(" ").slice(0, 3).join(" ")), [
    ".imgpkg dir 755",
    ".imgpkg/bundle.yml file 644",
    ".imgpkg/images.yml file 644",
    "config dir 755",
    "config/config.yml file 644",
  ]);
  assert.match(
    await Deno.readTextFile(join(dir.path, "out", ".imgpkg", "images.yml")),
    /kind: ImagesLock/,
  );
  const quiet = await runCli(["-q", "pull", `oci:${join(dir.path, "store")}:v1`, "-o", "out2"], {
    cwd: dir.path,
  });
  assert.equal(quiet.stderr, "");
});

Deno.test("pull: the buildah index (assembled from the fixture) and layout give the sample tree for each platform", async () => {
  await using dir = await tempDir();
  const expected = describeTree(await buildahSampleTree(join(dir.path, "expected")));
  const layouts = [
    await buildahFixtureLayout(join(dir.path, "store")),
    await OciLayout.open(join(FIXTURES, "buildah-layout")),
  ];
  for (const [i, layout] of layouts.entries()) {
    for (const architecture of ["amd64", "arm64"]) {
      const out = join(dir.path, `out-${i}-${architecture}`);
      const result = await pull(layout, {
        tagOrDigest: "v1",
        output: out,
        platform: { os: "linux", architecture },
      });
      assert.equal(result.selected.platform?.architecture, architecture);
      assert.equal(result.selected.index?.format.kind, "buildx-index");
      assert.deepEqual(describeTree(out), expected);
    }
  }
});

Deno.test("pull: a buildx index with attestations gives the host-architecture image, never an attestation", async () => {
  await using dir = await tempDir();
  const host = normalizePlatform({ os: "linux", architecture: Deno.build.arch });
  const { layout, images } = await buildxLayout(dir.path, [
    { os: "linux", architecture: "arm64" },
    { os: "linux", architecture: "amd64" },
  ]);
  const out = join(dir.path, "out");
  const result = await pull(layout, { tagOrDigest: "v1", output: out });
  const expectedDigest = images[host.architecture === "arm64" ? 0 : 1].digest;
  assert.equal(result.selected.descriptor.digest, expectedDigest);
  assert.match(result.selected.reason, /\(host default\)/);
  assert.deepEqual(describeTree(out, { modes: false }), [
    `arch.txt file ${JSON.stringify(`${host.architecture}\n`)}`,
  ]);
});

Deno.test("pull: --platform linux/arm64 (and its spellings) picks the arm64 image of a buildx index", async () => {
  await using dir = await tempDir();
  await buildxLayout(join(dir.path, "store"), [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
    { os: "linux", architecture: "arm", variant: "v7" },
  ]);
  for (const platform of ["linux/arm64", "linux/arm64/v8", "linux/aarch64", "Linux/ARM64"]) {
    const result = await runCli(
      ["pull", "oci:store:v1", "-o", "out", "--platform", platform, "--format", "json"],
      { cwd: dir.path },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).platform, { os: "linux", architecture: "arm64" });
    assert.equal(await Deno.readTextFile(join(dir.path, "out", "arch.txt")), "arm64\n");
  }
  for (const platform of ["linux/x86_64", "linux/amd64"]) {
    const result = await runCli(["pull", "oci:store:v1", "-o", "out", "--platform", platform], {
      cwd: dir.path,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await Deno.readTextFile(join(dir.path, "out", "arch.txt")), "amd64\n");
  }
  const arm = await runCli(["pull", "oci:store:v1", "-o", "out", "--platform", "linux/arm"], {
    cwd: dir.path,
  });
  assert.equal(arm.code, 0, arm.stderr);
  assert.equal(await Deno.readTextFile(join(dir.path, "out", "arch.txt")), "armv7\n");
});

Deno.test("pull: no image for the platform exits 3 listing the platforms present, not the attestations", async () => {
  await using dir = await tempDir();
  await buildxLayout(join(dir.path, "store"), [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ]);
  const explicit = await runCli(
    ["pull", "oci:store:v1", "-o", "out", "--platform", "linux/s390x"],
    { cwd: dir.path },
  );
  assert.equal(explicit.code, 3);
  assert.equal(
    explicit.stderr,
    "error: no manifest for platform linux/s390x in oci:store; available: linux/amd64, " +
      "linux/arm64 (and 2 attestation manifests, never pulled)\n",
  );
  const byDefault = await runCli(["pull", "oci:store:v1", "-o", "out"], {
    cwd: dir.path,
    env: { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/ppc64le" },
  });
  assert.equal(byDefault.code, 3);
  assert.match(byDefault.stderr, /platform linux\/ppc64le .*available: linux\/amd64, linux\/arm64/);
  assert.ok(!(await Deno.stat(join(dir.path, "out")).catch(() => null)));
});

Deno.test("pull: an entry annotated as an attestation is skipped even with a real platform", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(dir.path, { create: true });
  const tar = tarOf([{ name: "a.txt", content: "a\n" }]);
  const image = await storeImage(layout, {
    layers: [{ mediaType: OCI.layerTarGzip, blob: gzip(tar), tar }],
  });
  const { storeManifest, json } = await import("./support/layouts.ts");
  await storeManifest(
    layout,
    json({
      schemaVersion: 2,
      mediaType: OCI.index,
      manifests: [{
        ...image,
        platform: { os: "linux", architecture: "amd64" },
        annotations: { "vnd.docker.reference.type": "attestation-manifest" },
      }],
    }),
    OCI.index,
    "v1",
  );
  await assert.rejects(
    pull(layout, {
      tagOrDigest: "v1",
      output: join(dir.path, "out"),
      platform: { os: "linux", architecture: "amd64" },
    }),
    /available: none \(and 1 attestation manifest, never pulled\)/,
  );
});

Deno.test("pull: a Docker manifest list gives the entry for the platform", async () => {
  await using dir = await tempDir();
  const { layout } = await buildxLayout(dir.path, [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ], { docker: true });
  const out = join(dir.path, "out");
  const result = await pull(layout, {
    tagOrDigest: "v1",
    output: out,
    platform: { os: "linux", architecture: "arm64" },
  });
  assert.equal(result.selected.index?.format.kind, "docker-manifest-list");
  assert.equal(result.selected.format.label, "Docker image");
  assert.equal(await Deno.readTextFile(join(out, "arch.txt")), "arm64\n");
});

Deno.test("pull: a single image for another platform is not found with --platform; without, it is pulled", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(dir.path, { create: true });
  const tar = tarOf([{ name: "a.txt", content: "a\n" }]);
  await storeImage(layout, {
    os: "linux",
    architecture: "arm64",
    tag: "v1",
    layers: [{ mediaType: OCI.layerTarGzip, blob: gzip(tar), tar }],
  });
  await assert.rejects(
    pull(layout, {
      tagOrDigest: "v1",
      output: join(dir.path, "out"),
      platform: { os: "linux", architecture: "amd64" },
    }),
    /no manifest for platform linux\/amd64 .*available: linux\/arm64 \(a single image, not an index\)/,
  );
  await pull(layout, {
    tagOrDigest: "v1",
    output: join(dir.path, "out"),
    platform: { os: "linux", architecture: "arm64" },
  });
  await pull(layout, { tagOrDigest: "v1", output: join(dir.path, "out2") });
  assert.equal(await Deno.readTextFile(join(dir.path, "out2", "a.txt")), "a\n");
});

Deno.test("pull: content without a platform (imgpkg) is pulled whatever --platform says", async () => {
  await using dir = await tempDir();
  const layout = await imgpkgFixtureLayout(join(dir.path, "store"), "imgpkg");
  const result = await pull(layout, {
    tagOrDigest: "v1",
    output: join(dir.path, "out"),
    platform: { os: "linux", architecture: "s390x" },
  });
  assert.equal(result.selected.format.kind, "imgpkg-image");
});

Deno.test("pull: a multi-layer image applies whiteouts and opaque directories in order", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const base = tarOf([
    { name: "keep.txt", content: "keep\n" },
    { name: "gone.txt", content: "gone\n" },
    { name: "dir", type: "directory" },
    { name: "dir/old1.txt", content: "old1\n" },
    { name: "dir/old2.txt", content: "old2\n" },
    { name: "other", type: "directory" },
    { name: "other/gone-too.txt", content: "x\n" },
    { name: "other/stays.txt", content: "stays\n" },
  ]);
  const top = tarOf([
    { name: ".wh.gone.txt" },
    { name: "dir", type: "directory" },
    { name: "dir/.wh..wh..opq" },
    { name: "dir/new.txt", content: "new\n" },
    { name: "other/.wh.gone-too.txt" },
    { name: "keep.txt", content: "updated\n" },
  ]);
  const last = tarOf([{ name: "gone.txt.bak", content: "bak\n" }]);
  await storeImage(layout, {
    tag: "v1",
    layers: [
      { mediaType: OCI.layerTarGzip, blob: gzip(base), tar: base },
      { mediaType: OCI.layerTarZstd, blob: zstd(top), tar: top },
      { mediaType: OCI.layerTar, blob: last, tar: last },
    ],
  });
  const out = join(dir.path, "out");
  await pull(layout, { tagOrDigest: "v1", output: out });
  assert.deepEqual(describeTree(out), [
    "dir dir 755",
    'dir/new.txt file 644 "new\\n"',
    'gone.txt.bak file 644 "bak\\n"',
    'keep.txt file 644 "updated\\n"',
    "other dir 755",
    'other/stays.txt file 644 "stays\\n"',
  ]);
});

Deno.test("pull: zstd, uncompressed and Docker layers each pull; a foreign layer is skipped with a warning", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const a = tarOf([{ name: "zstd.txt", content: "zstd\n" }]);
  const b = tarOf([{ name: "plain.txt", content: "plain\n" }]);
  const c = tarOf([{ name: "docker.txt", content: "docker\n" }]);
  const d = tarOf([{ name: "docker-plain.txt", content: "dp\n" }]);
  const foreign = tarOf([{ name: "windows.txt", content: "never\n" }]);
  await storeImage(layout, {
    tag: "zstd",
    layers: [{ mediaType: OCI.layerTarZstd, blob: zstd(a), tar: a }],
  });
  await storeImage(layout, {
    tag: "plain",
    layers: [{ mediaType: OCI.layerTar, blob: b, tar: b }],
  });
  await storeImage(layout, {
    tag: "docker",
    docker: true,
    layers: [
      { mediaType: DOCKER.layerForeignTarGzip, blob: gzip(foreign), tar: foreign },
      { mediaType: DOCKER.layerTarGzip, blob: gzip(c), tar: c },
      { mediaType: DOCKER.layerTar, blob: d, tar: d },
    ],
  });
  for (const [tag, file] of [["zstd", "zstd.txt"], ["plain", "plain.txt"]]) {
    const out = join(dir.path, tag);
    await pull(layout, { tagOrDigest: tag, output: out });
    assert.deepEqual(describeTree(out, { modes: false }).map((l) => l.split(" ")[0]), [file]);
  }
  const result = await runCli(["pull", "oci:store:docker", "-o", "docker"], { cwd: dir.path });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /warning: skipping layer sha256:[0-9a-f]{12}: foreign layer/);
  assert.deepEqual(describeTree(join(dir.path, "docker"), { modes: false }), [
    'docker-plain.txt file "dp\\n"',
    'docker.txt file "docker\\n"',
  ]);
});
