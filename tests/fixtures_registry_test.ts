import assert from "node:assert/strict";
import { join } from "node:path";
import { pull } from "../src/pull/pull.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { runTool } from "./support/cli.ts";
import { fixture, fixtureContentType, fixtureDigest } from "./support/fixtures.ts";
import { startRegistry } from "./support/registry.ts";
import { serveFixture } from "./support/serve_fixtures.ts";
import { describeTree, makeFixtureSampleTree, tempDir } from "./support/tree.ts";

// The fixtures served from the real registry keep their digests and media
// types; skopeo (an independent client) copies them to layouts that pull
// reads. Once the registry client is on main, the same served fixtures are
// pulled with our CLI directly.

Deno.test("fixtures served from the real registry keep their bytes, digests and media types", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const cases = [
    ["imgpkg", "imgpkg/manifest.json", "imgpkg/manifest.headers"],
    ["imgpkg-bundle", "imgpkg-bundle/manifest.json", "imgpkg-bundle/manifest.headers"],
    ["buildah-index", "buildah-index/index.json", "buildah-index/index.headers"],
  ];
  for (const [name, manifest, headers] of cases) {
    const digest = await serveFixture(registry, name, `peers/${name}`);
    assert.equal(digest, fixtureDigest(headers));
    const response = await fetch(`${registry.url}/v2/peers/${name}/manifests/v1`, {
      headers: { accept: fixtureContentType(headers) },
    });
    assert.equal(response.headers.get("content-type"), fixtureContentType(headers));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), fixture(manifest));
    const out = join(dir.path, name);
    await runTool("skopeo", [
      "copy",
      "--all",
      "--quiet",
      "--preserve-digests",
      "--src-tls-verify=false",
      `docker://${registry.host}/peers/${name}:v1`,
      `oci:${out}:v1`,
    ]);
  }
  const expected = describeTree(await makeFixtureSampleTree(join(dir.path, "expected")));
  const imgpkg = await pull(await OciLayout.open(join(dir.path, "imgpkg")), {
    tagOrDigest: "v1",
    output: join(dir.path, "imgpkg-out"),
  });
  assert.equal(imgpkg.selected.format.kind, "imgpkg-image");
  assert.deepEqual(describeTree(join(dir.path, "imgpkg-out")), expected);
  const buildah = await pull(await OciLayout.open(join(dir.path, "buildah-index")), {
    tagOrDigest: "v1",
    output: join(dir.path, "buildah-out"),
    platform: { os: "linux", architecture: "arm64" },
  });
  assert.equal(buildah.selected.index?.format.kind, "buildx-index");
  assert.ok(
    describeTree(join(dir.path, "buildah-out")).includes(
      "sample/link-to-hello symlink -> hello.txt",
    ),
  );
});
