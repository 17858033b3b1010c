import assert from "node:assert/strict";
import { ParseError } from "../src/errors.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { DOCKER, OCI } from "../src/oci/media_types.ts";
import { parseImageConfig, parseManifest } from "../src/oci/parse.ts";
import { fixture, fixtureContentType, fixtureDigest } from "./support/fixtures.ts";

const manifests: [string, string, "manifest" | "index"][] = [
  ["imgpkg/manifest.json", "imgpkg/manifest.headers", "manifest"],
  ["imgpkg-bundle/manifest.json", "imgpkg-bundle/manifest.headers", "manifest"],
  [
    "imgpkg-bundle-copy/image-locations.manifest.json",
    "imgpkg-bundle-copy/image-locations.manifest.headers",
    "manifest",
  ],
  ["buildah-index/index.json", "buildah-index/index.headers", "index"],
  ["buildah-index/manifest-amd64.json", "buildah-index/manifest-amd64.headers", "manifest"],
  ["buildah-index/manifest-arm64.json", "buildah-index/manifest-arm64.headers", "manifest"],
];

for (const [file, headers, kind] of manifests) {
  Deno.test(`fixture ${file} parses as ${kind} with the served content type and digest`, () => {
    const bytes = fixture(file);
    assert.equal(sha256Digest(bytes), fixtureDigest(headers));
    const parsed = parseManifest(bytes, fixtureContentType(headers));
    assert.equal(parsed.kind, kind);
    if (parsed.kind === "manifest") {
      assert.ok(parsed.manifest.layers.length >= 1);
      assert.match(parsed.manifest.config.digest, /^sha256:[0-9a-f]{64}$/);
    } else {
      assert.deepEqual(
        parsed.index.manifests.map((m) => m.platform?.architecture),
        ["amd64", "arm64"],
      );
    }
  });
}

Deno.test("fixture layouts' index.json files parse as indexes", () => {
  for (const dir of ["imgpkg-layout", "buildah-layout"]) {
    const parsed = parseManifest(fixture(`${dir}/index.json`));
    assert.equal(parsed.kind, "index");
  }
});

Deno.test("every fixture config parses, with imgpkg's empty os and architecture", () => {
  const imgpkg = parseImageConfig(fixture("imgpkg/config.json"));
  assert.equal(imgpkg.os, "");
  assert.equal(imgpkg.architecture, "");
  assert.deepEqual(imgpkg.rootfs.diff_ids, [
    "sha256:7ae3d0b6877473e9c906964dcdb126b1da759394b4790d7066ee34b19a7af7c8",
  ]);
  const bundle = parseImageConfig(fixture("imgpkg-bundle/config.json"));
  assert.equal(bundle.config?.Labels?.["dev.carvel.imgpkg.bundle"], "true");
  const arm = parseImageConfig(fixture("buildah-index/config-arm64.json"));
  assert.equal(arm.architecture, "arm64");
  assert.equal(arm.os, "linux");
  parseImageConfig(fixture("buildah-index/config-amd64.json"));
  parseImageConfig(fixture("imgpkg-bundle-copy/image-locations.config.json"));
});

const good = {
  schemaVersion: 2,
  mediaType: OCI.manifest,
  config: { mediaType: OCI.config, digest: `sha256:${"a".repeat(64)}`, size: 2 },
  layers: [{ mediaType: OCI.layerTarGzip, digest: `sha256:${"b".repeat(64)}`, size: 10 }],
};

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
}

function mutate(change: (m: Record<string, unknown>) => void): Uint8Array {
  const copy = structuredClone(good) as Record<string, unknown>;
  change(copy);
  return encode(copy);
}

const malformed: [string, Uint8Array, RegExp][] = [
  ["not JSON", encode("{"), /not valid JSON/],
  ["a JSON array", encode("[]"), /must be a JSON object, got an array/],
  ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
  ["missing schemaVersion", mutate((m) => delete m.schemaVersion), /^schemaVersion: missing field/],
  ["schemaVersion 1", mutate((m) => m.schemaVersion = 1), /schema 1 manifests are deprecated/],
  ["schemaVersion 3", mutate((m) => m.schemaVersion = 3), /unsupported schemaVersion 3/],
  ["schemaVersion as string", mutate((m) => m.schemaVersion = "2"), /expected a number/],
  ["missing config", mutate((m) => delete m.config), /^config: missing field/],
  ["missing layers", mutate((m) => delete m.layers), /^layers: missing field/],
  ["layers not an array", mutate((m) => m.layers = {}), /^layers: expected an array/],
  [
    "bad layer digest",
    mutate((m) => (m.layers as Record<string, unknown>[])[0].digest = "sha256:xyz"),
    /^layers\[0\]\.digest: invalid sha256 digest/,
  ],
  [
    "digest of wrong length",
    mutate((m) => (m.config as Record<string, unknown>).digest = `sha256:${"a".repeat(63)}`),
    /^config\.digest: invalid sha256 digest/,
  ],
  [
    "negative size",
    mutate((m) => (m.config as Record<string, unknown>).size = -1),
    /^config\.size: expected a non-negative integer/,
  ],
  [
    "fractional size",
    mutate((m) => (m.config as Record<string, unknown>).size = 1.5),
    /^config\.size: expected a non-negative integer/,
  ],
  [
    "size as string",
    mutate((m) => (m.config as Record<string, unknown>).size = "2"),
    /^config\.size/,
  ],
  [
    "missing mediaType in descriptor",
    mutate((m) => delete (m.config as Record<string, unknown>).mediaType),
    /^config\.mediaType: expected a string/,
  ],
  [
    "annotation value not a string",
    mutate((m) => m.annotations = { a: 1 }),
    /^annotations\["a"\]: expected a string/,
  ],
  [
    "unknown manifest media type",
    mutate((m) => m.mediaType = "application/vnd.oci.artifact.manifest.v1+json"),
    /unsupported manifest media type/,
  ],
  [
    "index entry with platform missing os",
    encode({
      schemaVersion: 2,
      mediaType: OCI.index,
      manifests: [{
        mediaType: OCI.manifest,
        digest: `sha256:${"c".repeat(64)}`,
        size: 1,
        platform: { architecture: "amd64" },
      }],
    }),
    /^manifests\[0\]\.platform\.os: missing field/,
  ],
  [
    "oversized",
    encode({ ...good, pad: "x".repeat(4 * 1024 * 1024) }),
    /over the 4194304-byte limit/,
  ],
];

for (const [what, bytes, message] of malformed) {
  Deno.test(`a manifest with ${what} is refused with a precise message`, () => {
    assert.throws(() => parseManifest(bytes), (e: unknown) => {
      assert.ok(e instanceof ParseError, `expected ParseError, got ${e}`);
      assert.match((e as Error).message, message);
      return true;
    });
  });
}

Deno.test("a manifest served with a conflicting content type is refused", () => {
  assert.throws(() => parseManifest(encode(good), DOCKER.manifest), /served as/);
});

Deno.test("a manifest without mediaType takes it from the content type", () => {
  const { mediaType: _m, ...rest } = good;
  const parsed = parseManifest(encode(rest), DOCKER.manifest);
  assert.equal(parsed.kind, "manifest");
});

Deno.test("a config with bad diff_ids is refused", () => {
  assert.throws(
    () => parseImageConfig(encode({ rootfs: { type: "layers", diff_ids: ["nope"] } })),
    /rootfs\.diff_ids\[0\]: invalid digest/,
  );
  assert.throws(() => parseImageConfig(encode({ os: "linux" })), /rootfs: missing field/);
  assert.throws(
    () => parseImageConfig(encode({ rootfs: { type: "other", diff_ids: [] } })),
    /rootfs\.type/,
  );
});

Deno.test("the peer fixtures are byte-identical to the recorded checksums", async () => {
  const { FIXTURES } = await import("./support/fixtures.ts");
  const { createHash } = await import("node:crypto");
  const listing = await Deno.readTextFile(new URL("./fixtures/peers.sha256", import.meta.url));
  const lines = listing.trim().split("\n");
  assert.equal(lines.length, 61);
  for (const line of lines) {
    const [sum, path] = line.split(/\s+/);
    const bytes = await Deno.readFile(`${FIXTURES}${path.replace(/^\.\//, "")}`);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), sum, path);
  }
});
