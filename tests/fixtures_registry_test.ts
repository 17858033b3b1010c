import assert from "node:assert/strict";
import { join } from "node:path";
import { pull } from "../src/pull/pull.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { runCli, runTool } from "./support/cli.ts";
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

Deno.test("our CLI pulls every fixture straight from the real registry to the exact sample tree", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = {
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    DOCKER_CONFIG: join(dir.path, "docker"),
  };
  const expected = describeTree(await makeFixtureSampleTree(join(dir.path, "expected")));
  for (const name of ["imgpkg", "imgpkg-bundle", "buildah-index"]) {
    await serveFixture(registry, name, `peers/${name}`);
  }

  const imgpkg = await runCli(
    [
      "pull",
      `${registry.host}/peers/imgpkg:v1`,
      "-o",
      join(dir.path, "imgpkg"),
      "--output",
      "json",
    ],
    { env },
  );
  assert.equal(imgpkg.code, 0, imgpkg.stderr);
  assert.equal(JSON.parse(imgpkg.stdout).format, "imgpkg-image");
  // imgpkg's owner-only modes come back as imgpkg itself writes them (owner bits to group/other, umask).
  assert.deepEqual(describeTree(join(dir.path, "imgpkg")), expected);

  const bundle = await runCli([
    "pull",
    `${registry.host}/peers/imgpkg-bundle:v1`,
    "-o",
    join(dir.path, "bundle"),
  ], {
    env,
  });
  assert.equal(bundle.code, 0, bundle.stderr);
  assert.match(
    bundle.stderr,
    /imgpkg bundle; .*images listed in \.imgpkg\/images\.yml are not fetched/,
  );
  assert.deepEqual(
    describeTree(join(dir.path, "bundle"), { modes: false }).map((l) => l.split(" ")[0]),
    [".imgpkg", ".imgpkg/bundle.yml", ".imgpkg/images.yml", "config", "config/config.yml"],
  );

  for (const arch of ["amd64", "arm64"]) {
    const out = join(dir.path, `buildah-${arch}`);
    const result = await runCli(
      [
        "pull",
        `${registry.host}/peers/buildah-index:v1`,
        "-o",
        out,
        "--platform",
        `linux/${arch}`,
        "--output",
        "json",
      ],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).platform.architecture, arch);
    const lines = describeTree(out);
    assert.ok(lines.includes("sample/link-to-hello symlink -> hello.txt"));
    assert.ok(lines.includes('sample/run.sh file 755 "#!/bin/sh\\necho hi\\n"'));
  }
  const none = await runCli(
    [
      "pull",
      `${registry.host}/peers/buildah-index:v1`,
      "-o",
      join(dir.path, "s390x"),
      "--platform",
      "linux/s390x",
    ],
    { env },
  );
  assert.equal(none.code, 3);
  assert.match(none.stderr, /available: linux\/amd64, linux\/arm64/);
});
