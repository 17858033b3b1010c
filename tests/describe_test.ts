import assert from "node:assert/strict";
import { join } from "node:path";
import { describe } from "../src/format/describe.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { DOCKER, OCI } from "../src/oci/media_types.ts";
import { runCli } from "./support/cli.ts";
import { fixture } from "./support/fixtures.ts";
import {
  buildahFixtureLayout,
  buildxLayout,
  gzip,
  imgpkgFixtureLayout,
  json,
  storeBlob,
  storeImage,
  storeManifest,
  tarOf,
} from "./support/layouts.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

const HOST_AMD64 = { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64" };

Deno.test("describe: imgpkg image and bundle (JSON shape, evidence, layers)", async () => {
  await using dir = await tempDir();
  for (
    const [name, kind, format] of [
      ["imgpkg", "imgpkg-image", "imgpkg image"],
      ["imgpkg-bundle", "imgpkg-bundle", "imgpkg bundle"],
    ]
  ) {
    await imgpkgFixtureLayout(join(dir.path, name), name);
    const result = await runCli(["describe", `oci:${join(dir.path, name)}:v1`, "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    const d = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(d), [
      "reference",
      "digest",
      "mediaType",
      "size",
      "kind",
      "format",
      "evidence",
      "artifactType",
      "annotations",
      "platforms",
      "selected",
      "selectionError",
      "manifest",
      "referrers",
    ]);
    assert.equal(d.kind, kind);
    assert.equal(d.format, format);
    assert.equal(d.mediaType, DOCKER.manifest);
    assert.deepEqual(d.platforms, []);
    assert.equal(d.selected.digest, d.digest);
    assert.equal(d.manifest.platform, null);
    assert.equal(d.manifest.config.mediaType, DOCKER.config);
    assert.deepEqual(d.manifest.layers.map((l: { action: string }) => l.action), ["tar"]);
    assert.equal(d.manifest.layers[0].mediaType, DOCKER.layerTarGzip);
  }
});

Deno.test("describe: a buildx index marks attestations, selects the host entry and shows its config platform", async () => {
  await using dir = await tempDir();
  const { images, attestations } = await buildxLayout(dir.path, [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ]);
  const result = await runCli(["describe", `oci:${dir.path}:v1`, "--format", "json"], {
    env: HOST_AMD64,
  });
  assert.equal(result.code, 0, result.stderr);
  const d = JSON.parse(result.stdout);
  assert.equal(d.kind, "buildx-index");
  assert.deepEqual(
    d.platforms.map((p: { platform: string; attestation: boolean; attestationFor: string }) => [
      p.platform,
      p.attestation,
      p.attestationFor,
    ]),
    [
      ["linux/amd64", false, null],
      ["unknown/unknown", true, images[0].digest],
      ["linux/arm64", false, null],
      ["unknown/unknown", true, images[1].digest],
    ],
  );
  assert.equal(d.platforms[1].digest, attestations[0].digest);
  assert.deepEqual(d.selected, {
    digest: images[0].digest,
    platform: "linux/amd64",
    reason:
      "multi-platform OCI index (buildx shape) with attestations: index entry for linux/amd64, matching linux/amd64 (host default)",
    alsoMatching: [],
  });
  assert.equal(d.manifest.platform, "linux/amd64");
  assert.equal(d.manifest.kind, "image");

  const text = await runCli(["describe", `oci:${dir.path}:v1`], { env: HOST_AMD64 });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Format: +multi-platform OCI index \(buildx shape\) with attestations/);
  assert.match(text.stdout, /linux\/amd64 +sha256:[0-9a-f]{64} +\(selected\)/);
  assert.match(
    text.stdout,
    new RegExp(
      `unknown/unknown +sha256:[0-9a-f]{64} +\\(attestation of ${
        images[1].digest
      }, never pulled\\)`,
    ),
  );
});

Deno.test("describe: the buildah index, a Docker manifest list, a platform that is missing", async () => {
  await using dir = await tempDir();
  const buildah = await buildahFixtureLayout(join(dir.path, "buildah"));
  const b = await describe(buildah, await buildah.resolve("v1"), {
    os: "linux",
    architecture: "arm64",
  });
  assert.equal(b.kind, "buildx-index");
  assert.equal(b.format, "multi-platform OCI index (buildx shape) without attestations");
  assert.equal(b.selected?.platform, "linux/arm64");
  assert.equal(b.manifest?.annotations["org.opencontainers.image.base.name"], "");
  assert.equal(b.manifest?.config.size, fixture("buildah-index/config-arm64.json").byteLength);

  const { layout } = await buildxLayout(join(dir.path, "list"), [
    { os: "linux", architecture: "amd64" },
  ], { docker: true });
  const list = await describe(layout, await layout.resolve("v1"), {
    os: "linux",
    architecture: "s390x",
  });
  assert.equal(list.kind, "docker-manifest-list");
  assert.equal(list.selected, null);
  assert.equal(list.manifest, null);
  assert.match(
    list.selectionError!,
    /no manifest for platform linux\/s390x .*available: linux\/amd64/,
  );
});

Deno.test("describe: a plain image, an unnamed Helm chart, and artifact-cli pushes", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const tar = tarOf([{ name: "a.txt", content: "a" }]);
  await storeImage(layout, {
    tag: "image",
    os: "linux",
    architecture: "arm64",
    layers: [{ mediaType: OCI.layerTarGzip, blob: gzip(tar), tar }],
  });
  const config = await storeBlob(layout, json({}), "application/vnd.cncf.helm.config.v1+json");
  const chart = await storeBlob(
    layout,
    gzip(tar),
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
  );
  await storeManifest(
    layout,
    json({ schemaVersion: 2, mediaType: OCI.manifest, config, layers: [chart] }),
    OCI.manifest,
    "helm",
  );
  const image = await describe(layout, await layout.resolve("image"));
  assert.equal(image.kind, "image");
  assert.equal(image.format, "OCI image");
  assert.equal(image.manifest?.platform, "linux/arm64");
  // A Helm config without a name: a Helm chart that pull refuses (helm_chart_test.ts has real ones).
  const helm = await describe(layout, await layout.resolve("helm"));
  assert.equal(helm.kind, "helm-chart");
  assert.equal(helm.artifactType, "application/vnd.cncf.helm.config.v1+json");
  assert.deepEqual(helm.manifest?.layers.map((l) => [l.action, l.title]), [["refused", null]]);
  assert.match(helm.manifest!.layers[0].reason!, /the Helm config has no string name/);

  const src = await makeSampleTree(join(dir.path, "src"));
  await Deno.writeTextFile(join(dir.path, "spec.yaml"), "a: 1\n");
  for (
    const [tag, args] of [
      ["tree", [src]],
      ["multi", [src, "--platform", "linux/amd64,linux/arm64"]],
      ["files", ["spec.yaml:text/yaml", "--artifact-type", "application/x.spec"]],
    ] as const
  ) {
    const push = await runCli(["push", `oci:store:${tag}`, ...args], { cwd: dir.path });
    assert.equal(push.code, 0, push.stderr);
  }
  const shown = async (tag: string) => {
    const r = await runCli(["describe", `oci:store:${tag}`, "--format", "json"], {
      cwd: dir.path,
      env: HOST_AMD64,
    });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const tree = await shown("tree");
  assert.equal(tree.kind, "artifact-cli");
  assert.equal(tree.format, "artifact-cli push");
  assert.equal(tree.annotations["dev.educates.artifact-cli.tool"], "artifact-cli");
  const multi = await shown("multi");
  assert.equal(multi.kind, "artifact-cli-index");
  assert.equal(multi.manifest.kind, "artifact-cli");
  assert.equal(multi.manifest.platform, "linux/amd64");
  const files = await shown("files");
  assert.equal(files.kind, "artifact-cli");
  assert.equal(files.artifactType, "application/x.spec");
  assert.equal(files.manifest.config.mediaType, OCI.empty);
  assert.deepEqual(
    files.manifest.layers.map((l: { action: string; title: string }) => [l.action, l.title]),
    [
      ["file", "spec.yaml"],
    ],
  );
});

Deno.test("manifest prints the exact stored bytes; --platform follows an index", async () => {
  await using dir = await tempDir();
  await buildahFixtureLayout(join(dir.path, "buildah"));
  await imgpkgFixtureLayout(join(dir.path, "imgpkg"), "imgpkg");
  const index = await runCli(["manifest", `oci:${join(dir.path, "buildah")}:v1`]);
  assert.equal(index.code, 0, index.stderr);
  assert.equal(index.stdout, new TextDecoder().decode(fixture("buildah-index/index.json")));
  const arm = await runCli([
    "manifest",
    `oci:${join(dir.path, "buildah")}:v1`,
    "--platform",
    "linux/arm64",
  ]);
  assert.equal(arm.stdout, new TextDecoder().decode(fixture("buildah-index/manifest-arm64.json")));
  const imgpkg = await runCli(["manifest", `oci:${join(dir.path, "imgpkg")}:v1`]);
  assert.equal(imgpkg.stdout, new TextDecoder().decode(fixture("imgpkg/manifest.json")));
  const missing = await runCli([
    "manifest",
    `oci:${join(dir.path, "buildah")}:v1`,
    "--platform",
    "linux/s390x",
  ]);
  assert.equal(missing.code, 3);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /available: linux\/amd64, linux\/arm64/);
});
