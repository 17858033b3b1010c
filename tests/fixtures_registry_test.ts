import assert from "node:assert/strict";
import { join } from "node:path";
import { pull } from "../src/pull/pull.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { DOCKER, OCI } from "../src/oci/media_types.ts";
import { isolatedEnv, runCli, runTool } from "./support/cli.ts";
import { fixture, fixtureContentType, fixtureDigest } from "./support/fixtures.ts";
import { buildxLayout } from "./support/layouts.ts";
import { startRegistry } from "./support/registry.ts";
import { serveFixture } from "./support/serve_fixtures.ts";
import { describeTree, makeFixtureSampleTree, makeSampleTree, tempDir } from "./support/tree.ts";

// The peer fixtures served byte for byte by the real registry (blobs uploaded,
// manifests PUT with their original Content-Type): skopeo (an independent
// client) copies them to layouts that pull reads, and our CLI describes,
// prints and pulls them straight from the registry. Other shapes (buildx with
// attestations, Docker manifest lists) and our own pushes go through the
// registry too.

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
      "--format",
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

  const buildahExpected = join(dir.path, "buildah-expected");
  await makeFixtureSampleTree(join(buildahExpected, "sample"));
  await Deno.symlink("hello.txt", join(buildahExpected, "sample", "link-to-hello"));
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
        "--format",
        "json",
      ],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).platform.architecture, arch);
    // The exact sample tree, under sample/ with buildah's symlink.
    assert.deepEqual(describeTree(out), describeTree(buildahExpected));
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

const FIXTURE_CASES = [
  ["imgpkg", "imgpkg/manifest.json", "imgpkg/manifest.headers", "imgpkg-image"],
  [
    "imgpkg-bundle",
    "imgpkg-bundle/manifest.json",
    "imgpkg-bundle/manifest.headers",
    "imgpkg-bundle",
  ],
  ["buildah-index", "buildah-index/index.json", "buildah-index/index.headers", "buildx-index"],
] as const;

Deno.test("describe detects each fixture served by the real registry; manifest prints its stored bytes", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  for (const [name, manifest, headers, kind] of FIXTURE_CASES) {
    const digest = await serveFixture(registry, name, `peers/${name}`);

    const ref = `${registry.host}/peers/${name}:v1`;
    const described = await runCli(["describe", ref, "--format", "json"], { env });
    assert.equal(described.code, 0, described.stderr);
    const d = JSON.parse(described.stdout);
    assert.equal(d.kind, kind, name);
    assert.equal(d.digest, digest);
    assert.equal(d.mediaType, fixtureContentType(headers));

    // `manifest` writes exactly the stored bytes (compare bytes, not text).
    const printed = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(import.meta.dirname!, "..", "main.ts"), "manifest", ref],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(printed.code, 0, new TextDecoder().decode(printed.stderr));
    assert.deepEqual(printed.stdout, fixture(manifest));
  }
});

Deno.test("a buildx index with attestations and a Docker manifest list, served by the registry, pull the right image", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const platforms = [
    { os: "linux", architecture: "arm64" },
    { os: "linux", architecture: "amd64" },
  ];
  await buildxLayout(join(dir.path, "buildx"), platforms);
  await buildxLayout(join(dir.path, "list"), platforms, { docker: true });
  // skopeo (an independent client) puts the buildx index in the registry, digests preserved.
  await runTool("skopeo", [
    "copy",
    "--all",
    "--quiet",
    "--preserve-digests",
    "--dest-tls-verify=false",
    `oci:${join(dir.path, "buildx")}:v1`,
    `docker://${registry.host}/shapes/buildx:v1`,
  ]);
  // skopeo 1.9 cannot find a tagged Docker manifest list in a layout: our copy does that one.
  const copied = await runCli([
    "copy",
    `oci:${join(dir.path, "list")}:v1`,
    `${registry.host}/shapes/list:v1`,
  ], { env: isolatedEnv(dir.path) });
  assert.equal(copied.code, 0, copied.stderr);
  const listType = await fetch(`${registry.url}/v2/shapes/list/manifests/v1`, {
    headers: { accept: DOCKER.manifestList },
  });
  await listType.body?.cancel();
  assert.equal(listType.headers.get("content-type"), DOCKER.manifestList);

  for (const name of ["buildx", "list"]) {
    const ref = `${registry.host}/shapes/${name}:v1`;
    for (
      const [host, flag, expected] of [
        ["linux/amd64", [], "amd64\n"],
        ["linux/amd64", ["--platform", "linux/arm64"], "arm64\n"],
        ["linux/arm64", [], "arm64\n"],
      ] as const
    ) {
      const out = join(dir.path, "out");
      const pulled = await runCli(["pull", ref, "-o", out, ...flag], {
        env: isolatedEnv(dir.path, { ARTIFACT_CLI_DEFAULT_PLATFORM: host }),
      });
      assert.equal(pulled.code, 0, `${name} ${host} ${flag}: ${pulled.stderr}`);
      assert.equal(await Deno.readTextFile(join(out, "arch.txt")), expected);
    }
    const missing = await runCli(["pull", ref, "-o", join(dir.path, "none")], {
      env: isolatedEnv(dir.path, { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/s390x" }),
    });
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /available: linux\/arm64, linux\/amd64/);
  }
});

Deno.test("our pushes straight to the registry: multi-platform index and per-file artifact read back by skopeo and by our pull", async () => {
  await using registry = await startRegistry();
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const src = await makeSampleTree(join(dir.path, "src"));

  const multi = await runCli([
    "push",
    `${registry.host}/ours/multi:v1`,
    src,
    "--platform",
    "linux/amd64,linux/arm64",
    "--format",
    "json",
  ], { env });
  assert.equal(multi.code, 0, multi.stderr);
  const pushed = JSON.parse(multi.stdout);
  const raw = await runTool("skopeo", [
    "inspect",
    "--raw",
    "--tls-verify=false",
    `docker://${registry.host}/ours/multi:v1`,
  ]);
  assert.equal(sha256Digest(new TextEncoder().encode(raw.stdout)), pushed.digest);
  assert.equal(JSON.parse(raw.stdout).mediaType, OCI.index);
  const copied = join(dir.path, "copied");
  await runTool("skopeo", [
    "copy",
    "--all",
    "--quiet",
    "--preserve-digests",
    "--src-tls-verify=false",
    `docker://${registry.host}/ours/multi:v1`,
    `oci:${copied}:v1`,
  ]);
  assert.equal((await (await OciLayout.open(copied)).resolve("v1")).digest, pushed.digest);
  const back = join(dir.path, "back");
  const pulled = await runCli([
    "pull",
    `${registry.host}/ours/multi:v1`,
    "-o",
    back,
    "--platform",
    "linux/arm64",
  ], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(describeTree(back), describeTree(src));

  // A per-file artifact (the seed-004 shape) round-trips names and contents.
  const files = join(dir.path, "files");
  await Deno.mkdir(join(files, "docs"), { recursive: true });
  await Deno.writeTextFile(join(files, "runtime.yaml"), "kind: template-type\n");
  await Deno.writeTextFile(join(files, "docs", "guide.md"), "# guide\n");
  await Deno.writeTextFile(join(files, "config.json"), '{"formatVersion":"1.0"}');
  const artifact = await runCli([
    "push",
    `${registry.host}/ours/artifact:v1`,
    "--artifact-type",
    "application/vnd.eigenruntime.manifest.v1",
    "--config",
    "config.json:application/vnd.eigenruntime.manifest.config.v1+json",
    "runtime.yaml:text/yaml",
    "docs",
  ], { env, cwd: files });
  assert.equal(artifact.code, 0, artifact.stderr);
  const manifest = JSON.parse(
    (await runTool("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/ours/artifact:v1`,
    ])).stdout,
  );
  assert.equal(manifest.artifactType, "application/vnd.eigenruntime.manifest.v1");
  const out = join(dir.path, "artifact-out");
  const got = await runCli(["pull", `${registry.host}/ours/artifact:v1`, "-o", out], { env });
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(describeTree(out), [
    "docs dir 755",
    'docs/guide.md file 644 "# guide\\n"',
    'runtime.yaml file 644 "kind: template-type\\n"',
  ]);
});
