/**
 * Helm charts: a real `helm push` (Helm 3.13.3, tests/fixtures/peers/helm-chart)
 * served byte for byte by the real registry pulls as NAME-VERSION.tgz, the
 * layer's exact bytes, as `helm pull` writes it; a provenance layer becomes
 * NAME-VERSION.tgz.prov; describe names the chart. Hostile names and
 * versions in the config (untrusted: they name the file) are refused before
 * anything is written, from a registry and from an OCI layout.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { HELM, OCI } from "../src/oci/media_types.ts";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { fixture } from "./support/fixtures.ts";
import { storeBlob, storeManifest } from "./support/layouts.ts";
import { startRegistry, type TestRegistry } from "./support/registry.ts";
import { putManifestRaw, serveDigestFixture, uploadBlobRaw } from "./support/serve_fixtures.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const MANIFEST = "414d15fe523e8216aa2315bd6f471ab2a7c18939637d477a4000eb6736356f3e";
const CONFIG = "c645ead71d8bac00ade719d1c6fa88ac911b9ee363df8ffc3f1d506429d9104c";
const CHART = "d0fa910090f110252fc811ea2b4e16c46e858dd4dabe13ca933fd4aac2a3b2e1";
const chartBytes = () => fixture(`helm-chart/${CHART}.tar.gz`);
const encoder = new TextEncoder();
/** A control character other than the line break, unescaped (terminal output must have none). */
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** A signed-chart provenance file's shape (helm package --sign): a PGP clear-signed message. */
const PROV = encoder.encode(
  "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: peer-chart\n" +
    `...\nfiles:\n  peer-chart-0.1.0.tgz: sha256:${CHART}\n-----BEGIN PGP SIGNATURE-----\n` +
    "wsBcBAEBCgAQBQJj\n-----END PGP SIGNATURE-----\n",
);

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The files directly in `dir`, each with the sha256 of its bytes and its mode. */
function filesOf(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort().map((name) => {
    const path = join(dir, name);
    const mode = (Deno.lstatSync(path).mode! & 0o777).toString(8);
    return `${name} ${mode} ${sha256Hex(Deno.readFileSync(path))}`;
  });
}

interface Layer {
  bytes: Uint8Array<ArrayBuffer>;
  mediaType: string;
}

/** A Helm-shaped manifest over `config` and `layers`, as helm push writes it (no mediaType field). */
function helmManifest(config: Uint8Array, layers: Layer[]): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify({
    schemaVersion: 2,
    config: { mediaType: HELM.config, digest: sha256Digest(config), size: config.byteLength },
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: sha256Digest(l.bytes),
      size: l.bytes.byteLength,
    })),
  }));
}

/** Push a Helm-shaped manifest into the registry as `repo:tag`. */
async function pushHelm(
  registry: TestRegistry,
  repo: string,
  tag: string,
  config: Uint8Array<ArrayBuffer>,
  layers: Layer[],
): Promise<void> {
  await uploadBlobRaw(registry, repo, config);
  for (const layer of layers) await uploadBlobRaw(registry, repo, layer.bytes);
  await putManifestRaw(registry, repo, tag, helmManifest(config, layers), OCI.manifest);
}

/** Store a Helm-shaped manifest in an OCI layout, tagged `tag`. */
async function storeHelm(
  layout: OciLayout,
  tag: string,
  config: Uint8Array<ArrayBuffer>,
  layers: Layer[],
): Promise<void> {
  await storeBlob(layout, config, HELM.config);
  for (const layer of layers) await storeBlob(layout, layer.bytes, layer.mediaType);
  await storeManifest(layout, helmManifest(config, layers), OCI.manifest, tag);
}

const chartLayer = (): Layer => ({ bytes: chartBytes(), mediaType: HELM.chart });
const configOf = (name: unknown, version: unknown) =>
  encoder.encode(JSON.stringify({ apiVersion: "v2", name, version, type: "application" }));

Deno.test("the helm fixture is what its file names say", () => {
  for (const hex of [MANIFEST, CONFIG]) {
    assert.equal(sha256Hex(fixture(`helm-chart/${hex}.json`)), hex);
  }
  assert.equal(sha256Hex(chartBytes()), CHART);
});

Deno.test("a real helm push pulls as NAME-VERSION.tgz, the layer byte for byte; describe names the chart", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const root = await serveDigestFixture(registry, "helm-chart", "peer/peer-chart", "0.1.0");
  assert.equal(root, `sha256:${MANIFEST}`);
  const ref = `${registry.host}/peer/peer-chart:0.1.0`;
  const env = isolatedEnv(dir.path);

  const out = join(dir.path, "charts");
  const pulled = await runCli(["pull", ref, "-o", out, "--format", "json"], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(pulled.stderr, "");
  const result = JSON.parse(pulled.stdout);
  assert.equal(result.format, "helm-chart");
  assert.equal(result.digest, root);
  assert.match(
    result.reason,
    /^Helm chart peer-chart 0\.1\.0: pulled as peer-chart-0\.1\.0\.tgz, as helm pull writes it$/,
  );
  // Exactly the chart file, not extracted: no peer-chart/ directory, no Chart.yaml.
  assert.deepEqual(filesOf(out), [`peer-chart-0.1.0.tgz 644 ${CHART}`]);
  assert.deepEqual(Deno.readFileSync(join(out, "peer-chart-0.1.0.tgz")), chartBytes());

  const text = await runCli(["describe", ref], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Format: +Helm chart peer-chart 0\.1\.0$/m);
  assert.match(
    text.stdout,
    /^ +because +config media type application\/vnd\.cncf\.helm\.config\.v1\+json$/m,
  );
  assert.match(text.stdout, /^ +config name "peer-chart", version "0\.1\.0"$/m);
  assert.match(
    text.stdout,
    /^ {2}1\. application\/vnd\.cncf\.helm\.chart\.content\.v1\.tar\+gzip .* file peer-chart-0\.1\.0\.tgz$/m,
  );

  const json = await runCli(["describe", ref, "--format", "json"], { env });
  assert.equal(json.code, 0, json.stderr);
  const d = JSON.parse(json.stdout);
  assert.equal(d.kind, "helm-chart");
  assert.equal(d.format, "Helm chart peer-chart 0.1.0");
  assert.equal(d.artifactType, HELM.config);
  assert.deepEqual(d.evidence, [
    `config media type ${HELM.config}`,
    'config name "peer-chart", version "0.1.0"',
  ]);
  assert.equal(d.manifest.kind, "helm-chart");
  assert.deepEqual(
    d.manifest.layers.map((l: { action: string; title: string }) => [l.action, l.title]),
    [["file", "peer-chart-0.1.0.tgz"]],
  );
});

Deno.test("a provenance layer becomes NAME-VERSION.tgz.prov; other layers are skipped with a warning", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const extra = { bytes: encoder.encode("x"), mediaType: "application/vnd.example.note" };
  await pushHelm(registry, "peer/signed", "0.1.0", fixture(`helm-chart/${CONFIG}.json`), [
    chartLayer(),
    { bytes: PROV, mediaType: HELM.provenance },
    extra,
  ]);
  const ref = `${registry.host}/peer/signed:0.1.0`;
  const env = isolatedEnv(dir.path);
  const out = join(dir.path, "out");
  const pulled = await runCli(["pull", ref, "-o", out], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(
    pulled.stderr,
    /^warning: skipping layer sha256:[0-9a-f]{12}: not a Helm chart or provenance layer \(application\/vnd\.example\.note\)$/m,
  );
  assert.deepEqual(filesOf(out), [
    `peer-chart-0.1.0.tgz 644 ${CHART}`,
    `peer-chart-0.1.0.tgz.prov 644 ${sha256Hex(PROV)}`,
  ]);

  const json = await runCli(["describe", ref, "--format", "json"], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(
    JSON.parse(json.stdout).manifest.layers.map((l: { action: string; title: string }) => [
      l.action,
      l.title,
    ]),
    [["file", "peer-chart-0.1.0.tgz"], ["file", "peer-chart-0.1.0.tgz.prov"], ["skip", null]],
  );
});

/** Configs whose name or version must not name a file, and what the refusal says. */
const HOSTILE: [string, Uint8Array<ArrayBuffer>, RegExp][] = [
  ["dotdot name", configOf("../x", "1.0.0"), /the name contains a path separator/],
  ["slash name", configOf("a/b", "1.0.0"), /the name contains a path separator/],
  ["backslash name", configOf("a\\b", "1.0.0"), /the name contains a path separator/],
  ["slash version", configOf("x", "1.0/../../y"), /the version contains a path separator/],
  ["name ..", configOf("..", "1.0.0"), /the name is "\.\."/],
  ["version .", configOf("x", "."), /the version is "\."/],
  ["escape in name", configOf("evil\x1b[2J", "1.0.0"), /the name contains a control character/],
  ["newline in version", configOf("x", "1\nforged"), /the version contains a control character/],
  ["NUL in name", configOf("x\0y", "1.0.0"), /the name contains a control character/],
  ["C1 in name", configOf("x\x9by", "1.0.0"), /the name contains a control character/],
  ["empty name", configOf("", "1.0.0"), /the name is empty/],
  ["empty version", configOf("x", ""), /the version is empty/],
  ["very long name", configOf("a".repeat(300), "1.0.0"), /over the 246-byte limit/],
  ["long UTF-8 name", configOf("é".repeat(121), "1.0.0"), /is 248 bytes, over the 246-byte limit/],
  ["whiteout name", configOf(".wh.x", "1.0.0"), /whiteouts/],
  [
    "no version",
    configOf("x", undefined),
    /not a usable Helm chart: the Helm config has no string version/,
  ],
  ["number name", configOf(7, "1.0.0"), /the Helm config has no string name/],
  ["not JSON", encoder.encode("name: x\n"), /the Helm config is not JSON/],
];

Deno.test("hostile chart names and versions from a registry are refused (exit 1), nothing written", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  // Outputs live here (HOME and the cache are dir.path itself).
  const work = join(dir.path, "work");
  const kept = join(work, "kept");
  await Deno.mkdir(kept, { recursive: true });
  await Deno.writeTextFile(join(kept, "keep.txt"), "keep\n");
  for (const [i, [what, config, message]] of HOSTILE.entries()) {
    await pushHelm(registry, "peer/hostile", `h${i}`, config, [chartLayer()]);
    const ref = `${registry.host}/peer/hostile:h${i}`;
    const before = [...Deno.readDirSync(work)].map((e) => e.name).sort();
    // Into a new directory (never created), or over a kept one (--force: left as it was).
    const args = i % 2 ? ["-o", kept, "--force"] : ["-o", join(work, `fresh${i}`)];
    const result = await runCli(["pull", ref, ...args], { env });
    assert.equal(result.code, 1, `${what}: ${result.stderr}`);
    assert.match(result.stderr, /^error: (refusing Helm chart name|not a usable Helm chart)/, what);
    assert.match(result.stderr, message, what);
    assert.equal(result.stderr.split("\n").length, 2, `${what}: one line`);
    assert.ok(!RAW_CONTROL.test(result.stderr), `${what}: escaped`);
    assert.deepEqual([...Deno.readDirSync(work)].map((e) => e.name).sort(), before, what);
    assert.deepEqual(describeTree(kept), ['keep.txt file 644 "keep\\n"'], what);
  }
});

Deno.test("describe escapes a hostile chart name and shows the refusal; JSON keeps it exact", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  await pushHelm(registry, "peer/evil", "1", configOf("evil\x1b[2J\nForged: yes", "1\r"), [
    chartLayer(),
  ]);
  const ref = `${registry.host}/peer/evil:1`;
  const text = await runCli(["describe", ref], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.ok(!RAW_CONTROL.test(text.stdout), text.stdout);
  assert.doesNotMatch(text.stdout, /^Forged/m);
  assert.match(text.stdout, /^Format: +Helm chart evil\\033\[2J\\nForged: yes 1\\r$/m);
  assert.match(text.stdout, /^Pull: +Helm chart evil.* a single manifest, which pull refuses/m);
  assert.match(text.stdout, /^ {2}1\. .* refused: refusing Helm chart name .*control character$/m);
  const json = await runCli(["describe", ref, "--format", "json"], { env });
  assert.equal(json.code, 0, json.stderr);
  const d = JSON.parse(json.stdout);
  assert.equal(d.kind, "helm-chart");
  assert.equal(d.format, "Helm chart evil\x1b[2J\nForged: yes 1\r");
  assert.equal(d.manifest.layers[0].action, "refused");
});

Deno.test("from an OCI layout: the chart pulls as NAME-VERSION.tgz; hostile names, two chart layers or none are refused", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  await storeHelm(layout, "good", fixture(`helm-chart/${CONFIG}.json`), [
    chartLayer(),
    { bytes: PROV, mediaType: HELM.provenance },
  ]);
  const cases: [string, Uint8Array<ArrayBuffer>, Layer[], RegExp][] = [
    ...HOSTILE.map((
      [what, config, message],
    ): [string, Uint8Array<ArrayBuffer>, Layer[], RegExp] => [
      what,
      config,
      [chartLayer()],
      message,
    ]),
    ["two chart layers", configOf("x", "1"), [chartLayer(), {
      bytes: encoder.encode("other"),
      mediaType: HELM.chart,
    }], /exactly one layer of type .*; this one has 2/],
    [
      "no chart layer",
      configOf("x", "1"),
      [{ bytes: PROV, mediaType: HELM.provenance }],
      /this one has 0/,
    ],
    ["two provenance layers", configOf("x", "1"), [
      chartLayer(),
      { bytes: PROV, mediaType: HELM.provenance },
      { bytes: encoder.encode("p2"), mediaType: HELM.provenance },
    ], /at most one .*provenance.* layer; this one has 2/],
  ];
  for (const [i, [, config, layers]] of cases.entries()) {
    await storeHelm(layout, `h${i}`, config, layers);
  }

  const good = await runCli(["pull", "oci:store:good", "-o", "out", "--format", "json"], {
    cwd: dir.path,
  });
  assert.equal(good.code, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout).format, "helm-chart");
  assert.deepEqual(filesOf(join(dir.path, "out")), [
    `peer-chart-0.1.0.tgz 644 ${CHART}`,
    `peer-chart-0.1.0.tgz.prov 644 ${sha256Hex(PROV)}`,
  ]);

  for (const [i, [what, , , message]] of cases.entries()) {
    const result = await runCli(["pull", `oci:store:h${i}`, "-o", "out"], { cwd: dir.path });
    assert.equal(result.code, 1, `${what}: ${result.stderr}`);
    assert.match(result.stderr, message, what);
    // The earlier pull's output is as it was.
    assert.deepEqual(filesOf(join(dir.path, "out")), [
      `peer-chart-0.1.0.tgz 644 ${CHART}`,
      `peer-chart-0.1.0.tgz.prov 644 ${sha256Hex(PROV)}`,
    ], what);
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), ["out", "store"]);
});
