import assert from "node:assert/strict";
import { join } from "node:path";
import { inspect } from "../src/format/inspect.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { OCI } from "../src/oci/media_types.ts";
import { parseImageManifest } from "../src/oci/parse.ts";
import { runCli, runTool } from "./support/cli.ts";
import { gzip, json, storeBlob, storeManifest, tarOf } from "./support/layouts.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const TITLE = "org.opencontainers.image.title";

async function manifestOf(store: string, digest: string) {
  const layout = await OciLayout.open(store);
  return parseImageManifest(await Deno.readFile(layout.blobPath(digest as `sha256:${string}`)));
}

Deno.test("artifact: per-file layers round-trip names and contents (files, a nested path, an oras directory)", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await Deno.writeTextFile(join(d, "a.txt"), "alpha\n");
  await Deno.mkdir(join(d, "docs"));
  await Deno.writeTextFile(join(d, "docs", "b.md"), "# bee\n");
  await Deno.mkdir(join(d, "site", "css"), { recursive: true });
  await Deno.writeTextFile(join(d, "site", "index.html"), "<h1>hi</h1>\n");
  await Deno.writeTextFile(join(d, "site", "css", "x.css"), "p{}\n");
  await Deno.writeTextFile(join(d, "site", "run.sh"), "#!/bin/sh\n");
  await Deno.chmod(join(d, "site", "run.sh"), 0o755);
  const push = await runCli(
    [
      "push",
      "oci:store:v1",
      "a.txt",
      "./docs/b.md:text/markdown",
      "site",
      "--artifact-type",
      "application/x.demo",
      "--format",
      "json",
    ],
    { cwd: d },
  );
  assert.equal(push.code, 0, push.stderr);
  const result = JSON.parse(push.stdout);
  const manifest = await manifestOf(join(d, "store"), result.digest);
  assert.equal(manifest.artifactType, "application/x.demo");
  assert.deepEqual(manifest.config, {
    mediaType: OCI.empty,
    digest: sha256Digest(new TextEncoder().encode("{}")),
    size: 2,
    data: "e30=",
  });
  assert.deepEqual(manifest.layers.map((l) => [l.mediaType, l.annotations?.[TITLE]]), [
    ["application/octet-stream", "a.txt"],
    ["text/markdown", "docs/b.md"],
    [OCI.layerTarGzip, "site"],
  ]);
  assert.equal(manifest.layers[0].digest, sha256Digest(new TextEncoder().encode("alpha\n")));
  assert.equal(manifest.layers[2].annotations?.["io.deis.oras.content.unpack"], "true");
  assert.match(manifest.layers[2].annotations?.["io.deis.oras.content.digest"] ?? "", /^sha256:/);

  // The directory layer is a tar whose entries all live under the title (as oras writes it).
  const layout = await OciLayout.open(join(d, "store"));
  const listing = await runTool("tar", ["-tzf", layout.blobPath(manifest.layers[2].digest)]);
  assert.deepEqual(listing.stdout.trim().split("\n"), [
    "site/",
    "site/css/",
    "site/css/x.css",
    "site/index.html",
    "site/run.sh",
  ]);

  const pull = await runCli(["pull", "oci:store:v1", "-o", "out"], { cwd: d });
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(pull.stderr, "");
  assert.deepEqual(describeTree(join(d, "out")), [
    'a.txt file 644 "alpha\\n"',
    "docs dir 755",
    'docs/b.md file 644 "# bee\\n"',
    "site dir 755",
    "site/css dir 755",
    'site/css/x.css file 644 "p{}\\n"',
    'site/index.html file 644 "<h1>hi</h1>\\n"',
    'site/run.sh file 755 "#!/bin/sh\\n"',
  ]);
  const found = await inspect(layout, await layout.resolve("v1"));
  assert.equal(found.format.kind, "artifact-cli");
  assert.equal(found.format.artifactType, "application/x.demo");
});

Deno.test("artifact: the EigenRuntime example of seed 004 is expressible (custom config type, text/yaml layer, OCI annotations)", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const config = JSON.stringify({
    formatVersion: "1.0",
    eigenRuntimeAPIVersion: "v1",
    kind: "template-type",
    avsName: "my-avs",
  });
  await Deno.writeTextFile(join(d, "config.json"), config);
  await Deno.writeTextFile(join(d, "runtime.yaml"), "apiVersion: v1\nkind: EigenRuntime\n");
  // The command in README.md ("Generic OCI artifacts"), to a layout instead of ghcr.io.
  const push = await runCli([
    "push",
    "oci:store:opset-0-v1",
    "--artifact-type",
    "application/vnd.eigenruntime.manifest.v1",
    "--config",
    "config.json:application/vnd.eigenruntime.manifest.config.v1+json",
    "runtime.yaml:text/yaml",
    "--annotation",
    "org.opencontainers.image.source=https://github.com/Layr-Labs/devkit-cli",
    "--annotation",
    "org.opencontainers.image.description=EigenRuntime specification for my-avs",
    "--annotation",
    "org.opencontainers.image.created=2025-01-01T00:00:00Z",
    "--annotation",
    "io.eigenruntime.spec.version=v1",
    "--format",
    "json",
  ], { cwd: d });
  assert.equal(push.code, 0, push.stderr);
  const digest = JSON.parse(push.stdout).digest;
  const raw = await runTool("skopeo", ["inspect", "--raw", `oci:${join(d, "store")}:opset-0-v1`]);
  assert.equal(sha256Digest(new TextEncoder().encode(raw.stdout)), digest);
  const doc = JSON.parse(raw.stdout);
  assert.deepEqual(Object.keys(doc), [
    "schemaVersion",
    "mediaType",
    "artifactType",
    "config",
    "layers",
    "annotations",
  ]);
  assert.equal(doc.mediaType, OCI.manifest);
  assert.equal(doc.artifactType, "application/vnd.eigenruntime.manifest.v1");
  assert.deepEqual(doc.config, {
    mediaType: "application/vnd.eigenruntime.manifest.config.v1+json",
    digest: sha256Digest(new TextEncoder().encode(config)),
    size: config.length,
  });
  assert.equal(doc.layers.length, 1);
  assert.equal(doc.layers[0].mediaType, "text/yaml");
  assert.equal(doc.layers[0].annotations[TITLE], "runtime.yaml");
  assert.deepEqual(doc.annotations, {
    "org.opencontainers.image.source": "https://github.com/Layr-Labs/devkit-cli",
    "org.opencontainers.image.description": "EigenRuntime specification for my-avs",
    "org.opencontainers.image.created": "2025-01-01T00:00:00Z",
    "io.eigenruntime.spec.version": "v1",
    "dev.educates.artifact-cli.tool": "artifact-cli",
    "dev.educates.artifact-cli.version": doc.annotations["dev.educates.artifact-cli.version"],
  });
  const pull = await runCli(["pull", "oci:store:opset-0-v1", "-o", "out"], { cwd: d });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(join(d, "out")), [
    'runtime.yaml file 644 "apiVersion: v1\\nkind: EigenRuntime\\n"',
  ]);
});

Deno.test("artifact: --annotation-file in oras format annotates the manifest, the config and files by title", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await Deno.writeTextFile(join(d, "a.txt"), "a\n");
  await Deno.writeTextFile(
    join(d, "notes.json"),
    JSON.stringify({
      $manifest: { "org.opencontainers.image.vendor": "Educates", "k": "from-file" },
      $config: { "hello": "config" },
      "a.txt": { "com.example.role": "greeting" },
    }),
  );
  const push = await runCli(
    [
      "push",
      "oci:store:v1",
      "a.txt:text/plain",
      "--annotation-file",
      "notes.json",
      "--annotation",
      "k=from-flag",
      "--format",
      "json",
    ],
    { cwd: d },
  );
  assert.equal(push.code, 0, push.stderr);
  const manifest = await manifestOf(join(d, "store"), JSON.parse(push.stdout).digest);
  assert.equal(manifest.annotations?.["org.opencontainers.image.vendor"], "Educates");
  assert.equal(manifest.annotations?.k, "from-flag");
  assert.deepEqual(manifest.config.annotations, { hello: "config" });
  assert.deepEqual(manifest.layers[0].annotations, {
    [TITLE]: "a.txt",
    "com.example.role": "greeting",
  });

  await Deno.writeTextFile(join(d, "bad.json"), JSON.stringify({ "nope.txt": { a: "b" } }));
  const bad = await runCli([
    "push",
    "oci:store:v2",
    "a.txt:text/plain",
    "--annotation-file",
    "bad.json",
  ], {
    cwd: d,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /names "nope\.txt", which is not a pushed file \(titles: a\.txt\)/);
  const tree = await runCli(["push", "oci:store:v3", "a.txt", "--annotation-file", "notes.json"], {
    cwd: d,
  });
  assert.equal(tree.code, 2);
  assert.match(tree.stderr, /only apply to per-file artifacts/);
});

/** A layout with one artifact manifest over the given layers. */
async function artifactLayout(
  root: string,
  layers: { bytes: Uint8Array; mediaType: string; annotations?: Record<string, string> }[],
  configType = "application/vnd.example.config.v1+json",
) {
  const layout = await OciLayout.open(root, { create: true });
  const config = await storeBlob(layout, json({}), configType);
  const descriptors = [];
  for (const l of layers) {
    descriptors.push(
      await storeBlob(
        layout,
        l.bytes,
        l.mediaType,
        l.annotations ? { annotations: l.annotations } : {},
      ),
    );
  }
  await storeManifest(
    layout,
    json({ schemaVersion: 2, mediaType: OCI.manifest, config, layers: descriptors }),
    OCI.manifest,
    "v1",
  );
  return layout;
}

Deno.test("artifact pull: oras files with the tar media type are files; untitled non-tar layers are skipped with a warning", async () => {
  await using dir = await tempDir();
  const enc = new TextEncoder();
  await artifactLayout(join(dir.path, "store"), [
    // oras's default media type for a file is the tar one; the title decides.
    {
      bytes: enc.encode("not a tar\n"),
      mediaType: OCI.layerTar,
      annotations: { [TITLE]: "notes.txt" },
    },
    { bytes: enc.encode("{}"), mediaType: "application/vnd.cncf.helm.chart.provenance.v1.prov" },
  ]);
  const result = await runCli(["pull", "oci:store:v1", "-o", "out"], { cwd: dir.path });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /^warning: skipping layer sha256:[0-9a-f]{12}: not a filesystem layer \(application\/vnd\.cncf\.helm\.chart\.provenance\.v1\.prov\) and no org\.opencontainers\.image\.title to name it\n$/,
  );
  assert.deepEqual(describeTree(join(dir.path, "out")), ['notes.txt file 644 "not a tar\\n"']);
});

Deno.test("artifact pull: nothing nameable (an untitled non-tar layer) fails and leaves the output alone", async () => {
  await using dir = await tempDir();
  await artifactLayout(join(dir.path, "store"), [
    {
      bytes: gzip(tarOf([{ name: "chart/Chart.yaml", content: "name: x\n" }])),
      mediaType: "application/vnd.example.bundle.v1.tar+gzip",
    },
  ]);
  await Deno.mkdir(join(dir.path, "out"));
  await Deno.writeTextFile(join(dir.path, "out", "keep.txt"), "keep\n");
  const result = await runCli(["pull", "oci:store:v1", "-o", "out", "--force"], { cwd: dir.path });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /error: nothing to pull from oci:store: none of its 1 layers can be written as files/,
  );
  assert.deepEqual(describeTree(join(dir.path, "out")), ['keep.txt file 644 "keep\\n"']);
});

Deno.test("artifact pull: hostile titles and directory layers are refused, the output untouched", async () => {
  const enc = new TextEncoder();
  const cases: [
    string,
    { bytes: Uint8Array; mediaType: string; annotations?: Record<string, string> }[],
    RegExp,
  ][] = [
    ["dotdot title", [{
      bytes: enc.encode("x"),
      mediaType: "text/plain",
      annotations: { [TITLE]: "a/../../x" },
    }], /contains "\.\."/],
    ["absolute title", [{
      bytes: enc.encode("x"),
      mediaType: "text/plain",
      annotations: { [TITLE]: "/etc/x" },
    }], /absolute path/],
    ["whiteout title", [{
      bytes: enc.encode("x"),
      mediaType: "text/plain",
      annotations: { [TITLE]: ".wh.keep.txt" },
    }], /whiteouts/],
    ["title through a symlink", [
      {
        bytes: gzip(tarOf([{ name: "d", type: "directory" }])),
        mediaType: OCI.layerTarGzip,
        annotations: { [TITLE]: "d", "io.deis.oras.content.unpack": "true" },
      },
      { bytes: await symlinkTar(), mediaType: OCI.layerTar },
      {
        bytes: enc.encode("x"),
        mediaType: "text/plain",
        annotations: { [TITLE]: "link/evil.txt" },
      },
    ], /link is a symlink/],
    ["directory entry outside its title", [{
      bytes: gzip(
        tarOf([{ name: "site/ok.txt", content: "ok" }, { name: "other.txt", content: "x" }]),
      ),
      mediaType: OCI.layerTarGzip,
      annotations: { [TITLE]: "site", "io.deis.oras.content.unpack": "true" },
    }], /"other\.txt" in directory layer "site": it is outside site\//],
  ];
  for (const [name, layers, message] of cases) {
    await using dir = await tempDir();
    await artifactLayout(join(dir.path, "store"), layers, OCI.empty);
    await Deno.mkdir(join(dir.path, "out"));
    await Deno.writeTextFile(join(dir.path, "out", "keep.txt"), "keep\n");
    const result = await runCli(["pull", "oci:store:v1", "-o", "out", "--force"], {
      cwd: dir.path,
    });
    assert.equal(result.code, 1, `${name}: ${result.stderr}`);
    assert.match(result.stderr, message, name);
    assert.deepEqual(describeTree(join(dir.path, "out")), ['keep.txt file 644 "keep\\n"'], name);
  }
});

/** An uncompressed tar holding `link -> /tmp` (written by GNU tar, an independent writer). */
async function symlinkTar(): Promise<Uint8Array> {
  await using dir = await tempDir();
  await Deno.symlink("/tmp", join(dir.path, "link"));
  await runTool("tar", ["-cf", join(dir.path, "l.tar"), "-C", dir.path, "link"]);
  return await Deno.readFile(join(dir.path, "l.tar"));
}
