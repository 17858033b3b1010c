import assert from "node:assert/strict";
import { join } from "node:path";
import { detectManifestFormat } from "../src/format/detect.ts";
import { inspect } from "../src/format/inspect.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { DOCKER, OCI } from "../src/oci/media_types.ts";
import { parseImageConfig, parseImageManifest } from "../src/oci/parse.ts";
import type { ImageManifest } from "../src/oci/types.ts";
import { fixture, FIXTURES } from "./support/fixtures.ts";
import {
  buildahFixtureLayout,
  buildxLayout,
  imgpkgFixtureLayout,
  json,
  storeBlob,
  storeManifest,
} from "./support/layouts.ts";
import { tempDir } from "./support/tree.ts";

const ZERO = `sha256:${"0".repeat(64)}` as const;

Deno.test("detect: the imgpkg fixture is an imgpkg image, by its config history", async () => {
  await using dir = await tempDir();
  const layout = await imgpkgFixtureLayout(dir.path, "imgpkg");
  const found = await inspect(layout, await layout.resolve("v1"));
  assert.equal(found.format.kind, "imgpkg-image");
  assert.ok(found.format.evidence.includes("config history created_by imgpkg"));
  assert.ok(found.format.evidence.includes(`media type ${DOCKER.manifest}`));
});

Deno.test("detect: the imgpkg bundle fixture is an imgpkg bundle, by its config label", async () => {
  await using dir = await tempDir();
  const layout = await imgpkgFixtureLayout(dir.path, "imgpkg-bundle");
  const found = await inspect(layout, await layout.resolve("v1"));
  assert.equal(found.format.kind, "imgpkg-bundle");
  assert.match(found.format.evidence[0], /dev\.carvel\.imgpkg\.bundle: "true"/);
});

Deno.test("detect: the skopeo-written imgpkg layout (Docker manifest kept) is still an imgpkg image", async () => {
  const layout = await OciLayout.open(join(FIXTURES, "imgpkg-layout"));
  const found = await inspect(layout, await layout.resolve("v1"));
  assert.equal(found.format.kind, "imgpkg-image");
});

Deno.test("detect: an imgpkg-shaped image without history is recognised by its empty platform", () => {
  const manifest = parseImageManifest(fixture("imgpkg/manifest.json"));
  const config = parseImageConfig(fixture("imgpkg/config.json"));
  delete config.history;
  const format = detectManifestFormat(manifest, config);
  assert.equal(format.kind, "imgpkg-image");
  assert.match(format.evidence.at(-1)!, /empty os and architecture/);
  // The same shape with a platform is a plain Docker image.
  const format2 = detectManifestFormat(manifest, { ...config, os: "linux", architecture: "amd64" });
  assert.equal(format2.kind, "image");
  assert.equal(format2.label, "Docker image");
});

Deno.test("detect: imgpkg's history is decisive whatever the media types; an image built on it is not imgpkg", () => {
  const manifest = parseImageManifest(fixture("imgpkg/manifest.json"));
  const config = parseImageConfig(fixture("imgpkg/config.json"));
  const converted: ImageManifest = {
    ...manifest,
    mediaType: OCI.manifest,
    config: { ...manifest.config, mediaType: OCI.config },
    layers: manifest.layers.map((l) => ({ ...l, mediaType: OCI.layerTarGzip })),
  };
  const format = detectManifestFormat(converted, config);
  assert.equal(format.kind, "imgpkg-image");
  assert.deepEqual(format.evidence, [
    `media type ${OCI.manifest}`,
    `config media type ${OCI.config}`,
    "config history created_by imgpkg",
  ]);
  // Without the history, OCI media types and an empty platform are just an image.
  assert.equal(detectManifestFormat(converted, { ...config, history: undefined }).kind, "image");
  // A layer added on top by another tool (more history) is not imgpkg's content.
  const derived = {
    ...config,
    history: [...config.history!, { created_by: "COPY extra /" }],
  };
  assert.equal(detectManifestFormat(converted, derived).kind, "image");
});

Deno.test("detect: the buildah index fixture and layout are multi-platform indexes without attestations", async () => {
  await using dir = await tempDir();
  for (
    const layout of [
      await buildahFixtureLayout(dir.path),
      await OciLayout.open(join(FIXTURES, "buildah-layout")),
    ]
  ) {
    const found = await inspect(layout, await layout.resolve("v1"));
    assert.equal(found.format.kind, "buildx-index");
    assert.equal(found.format.attestations, false);
    assert.ok(found.format.evidence.includes("entries for linux/amd64, linux/arm64"));
    const amd64 = await inspect(
      layout,
      found.parsed.kind === "index" ? found.parsed.index.manifests[0] : found.descriptor,
    );
    assert.equal(amd64.format.kind, "image");
    assert.equal(amd64.format.label, "OCI image");
    assert.ok(amd64.format.evidence.includes("config platform linux/amd64"));
  }
});

Deno.test("detect: a buildx index with attestation manifests says so", async () => {
  await using dir = await tempDir();
  const { layout, index } = await buildxLayout(dir.path, [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ]);
  const found = await inspect(layout, index);
  assert.equal(found.format.kind, "buildx-index");
  assert.equal(found.format.attestations, true);
  assert.match(found.format.label, /with attestations/);
  assert.match(found.format.evidence.join("\n"), /2 attestation manifests/);
});

Deno.test("detect: a Docker manifest list", async () => {
  await using dir = await tempDir();
  const { layout, index } = await buildxLayout(dir.path, [{ os: "linux", architecture: "amd64" }], {
    docker: true,
  });
  const found = await inspect(layout, index);
  assert.equal(found.format.kind, "docker-manifest-list");
  const image = await inspect(
    layout,
    found.parsed.kind === "index" ? found.parsed.index.manifests[0] : index,
  );
  assert.equal(image.format.label, "Docker image");
});

Deno.test("detect: OCI artifacts by artifactType, a config type, or the empty config; Helm charts", () => {
  const base = (configType: string, artifactType?: string): ImageManifest => ({
    schemaVersion: 2,
    mediaType: OCI.manifest,
    ...(artifactType ? { artifactType } : {}),
    config: { mediaType: configType, digest: ZERO, size: 2 },
    layers: [],
  });
  const other = detectManifestFormat(base("application/vnd.example.config.v1+json"));
  assert.equal(other.kind, "artifact");
  assert.equal(other.artifactType, "application/vnd.example.config.v1+json");
  assert.match(other.evidence[0], /is not an image config/);
  // Helm's config type is a Helm chart, named by its config (see helm_chart_test.ts).
  const helm = detectManifestFormat(base("application/vnd.cncf.helm.config.v1+json"), undefined, {
    chart: { name: "c", version: "1.0.0" },
  });
  assert.equal(helm.kind, "helm-chart");
  assert.equal(helm.label, "Helm chart c 1.0.0");
  assert.equal(helm.artifactType, "application/vnd.cncf.helm.config.v1+json");
  const unnamed = detectManifestFormat(
    base("application/vnd.cncf.helm.config.v1+json"),
    undefined,
    {
      chartProblem: "the Helm config has no string name",
    },
  );
  assert.equal(unnamed.kind, "helm-chart");
  assert.deepEqual(unnamed.evidence.slice(1), ["the Helm config has no string name"]);
  const empty = detectManifestFormat(base(OCI.empty));
  assert.equal(empty.kind, "artifact");
  assert.match(empty.evidence[0], /empty config/);
  const typed = detectManifestFormat(base(OCI.empty, "application/vnd.eigenruntime.manifest.v1"));
  assert.equal(typed.artifactType, "application/vnd.eigenruntime.manifest.v1");
  assert.equal(typed.evidence[0], "artifactType application/vnd.eigenruntime.manifest.v1");
  // artifactType wins even with an image config (OCI 1.1 allows it).
  assert.equal(detectManifestFormat(base(OCI.config, "application/x.sbom")).kind, "artifact");
});

Deno.test("detect: an artifact-cli annotation wins over everything else", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(dir.path, { create: true });
  const config = await storeBlob(layout, json({}), OCI.empty);
  const desc = await storeManifest(
    layout,
    json({
      schemaVersion: 2,
      mediaType: OCI.manifest,
      artifactType: "application/x.test",
      config,
      layers: [],
      annotations: { "dev.educates.artifact-cli.tool": "artifact-cli" },
    }),
    OCI.manifest,
    "v1",
  );
  const found = await inspect(layout, desc);
  assert.equal(found.format.kind, "artifact-cli");
  assert.equal(found.format.artifactType, "application/x.test");
  assert.deepEqual(found.format.evidence, [
    "manifest annotation dev.educates.artifact-cli.tool: artifact-cli",
    "artifactType application/x.test",
  ]);
});
