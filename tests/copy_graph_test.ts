import assert from "node:assert/strict";
import { join } from "node:path";
import { copyGraph } from "../src/copy/copy.ts";
import { ArtifactError, NotFoundError } from "../src/errors.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { LIMITS } from "../src/oci/limits.ts";
import { MANIFEST_ACCEPT, OCI } from "../src/oci/media_types.ts";
import type { Descriptor } from "../src/oci/types.ts";
import type { Target } from "../src/target.ts";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startFaultProxy } from "./support/fault_proxy.ts";
import { json, storeBlob, storeManifest } from "./support/layouts.ts";
import { startRegistry, type TestRegistry } from "./support/registry.ts";
import { putManifestRaw, uploadBlobRaw } from "./support/serve_fixtures.ts";
import { buildTarGz } from "./support/tar_builder.ts";
import { tempDir } from "./support/tree.ts";

/** What {@link pushFanOut} stored. */
interface FanOut {
  root: string;
  /** Digests of every distinct manifest, index and blob under the root (the root included). */
  distinct: string[];
  manifests: string[];
}

/**
 * A hostile index in `repo:v1`: `width` children, each an index (all
 * different) of `width` entries that all point at the same 3 image
 * manifests. Walked naively it is 1 + width + width² manifest fetches; it
 * has only 1 + width + 3 manifests and 4 blobs.
 */
async function pushFanOut(registry: TestRegistry, repo: string, width: number): Promise<FanOut> {
  const layer = buildTarGz([{ name: "a.txt", content: "shared\n" }]);
  await uploadBlobRaw(registry, repo, layer);
  const images: Descriptor[] = [];
  const blobs = [sha256Digest(layer)];
  for (const architecture of ["amd64", "arm64", "s390x"]) {
    const config = json({ architecture, os: "linux", rootfs: { type: "layers", diff_ids: [] } });
    await uploadBlobRaw(registry, repo, config);
    blobs.push(sha256Digest(config));
    const bytes = json({
      schemaVersion: 2,
      mediaType: OCI.manifest,
      config: { mediaType: OCI.config, digest: sha256Digest(config), size: config.byteLength },
      layers: [{
        mediaType: OCI.layerTarGzip,
        digest: sha256Digest(layer),
        size: layer.byteLength,
      }],
    });
    const digest = sha256Digest(bytes);
    await putManifestRaw(registry, repo, digest, bytes, OCI.manifest);
    images.push({
      mediaType: OCI.manifest,
      digest,
      size: bytes.byteLength,
      platform: { os: "linux", architecture },
    });
  }
  const middles: Descriptor[] = [];
  for (let i = 0; i < width; i++) {
    const bytes = json({
      schemaVersion: 2,
      mediaType: OCI.index,
      manifests: Array.from({ length: width }, (_, j) => images[j % images.length]),
      annotations: { "test.middle": String(i) },
    });
    const digest = sha256Digest(bytes);
    await putManifestRaw(registry, repo, digest, bytes, OCI.index);
    middles.push({ mediaType: OCI.index, digest, size: bytes.byteLength });
  }
  const root = json({ schemaVersion: 2, mediaType: OCI.index, manifests: middles });
  await putManifestRaw(registry, repo, "v1", root, OCI.index);
  const manifests = [root, ...middles, ...images].map((m) =>
    m instanceof Uint8Array ? sha256Digest(m) : m.digest
  );
  return { root: sha256Digest(root), distinct: [...manifests, ...blobs], manifests };
}

Deno.test("copy of an index fanning out 32 x 32 to 3 manifests fetches each digest once", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const graph = await pushFanOut(registry, "hostile/fan", 32);
  assert.equal(graph.distinct.length, 1 + 32 + 3 + 4);
  await using proxy = await startFaultProxy({ upstream: registry.url });
  const out = join(dir.path, "out");

  const result = await runCli(
    ["copy", `${proxy.host}/hostile/fan:v1`, `oci:${out}:v1`, "--format", "json"],
    { env: isolatedEnv(dir.path) },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).digest, graph.root);

  // Each distinct digest is fetched from the source once (the naive walk: 1,057 manifest GETs).
  const gets = proxy.seen.filter((r) => r.method === "GET" && /\/(manifests|blobs)\//.test(r.path));
  const fetched = gets.map((r) => r.path.slice(r.path.lastIndexOf("/") + 1));
  assert.equal(new Set(fetched).size, fetched.length, `fetched twice: ${fetched.join(" ")}`);
  assert.ok(
    proxy.seen.length <= graph.distinct.length * 3,
    `${proxy.seen.length} requests for ${graph.distinct.length} distinct nodes`,
  );
  // The destination has the root under the tag, byte for byte, and everything below it.
  const layout = await OciLayout.open(out);
  const root = await layout.resolve("v1");
  assert.equal(root.digest, graph.root);
  for (const digest of graph.distinct) {
    assert.ok(await Deno.stat(join(out, "blobs", "sha256", digest.slice(7))), digest);
  }
});

Deno.test("copy keeps at most --concurrency requests in flight, manifests included", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const graph = await pushFanOut(registry, "hostile/fan", 16);
  await using proxy = await startFaultProxy({
    upstream: registry.url,
    // Slow manifest answers so that requests sent together are seen together.
    rules: [{
      method: "GET",
      path: /\/manifests\//,
      times: Infinity,
      fault: { kind: "delay", ms: 5 },
    }],
  });

  const result = await runCli(
    [
      "copy",
      `${proxy.host}/hostile/fan:v1`,
      `${proxy.host}/hostile/copied:v2`,
      "--concurrency",
      "2",
      "--format",
      "json",
    ],
    { env: isolatedEnv(dir.path) },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).digest, graph.root);
  // Each task sends its requests one after another; the tag resolve runs before the walk.
  assert.ok(proxy.inFlight.peak <= 2 + 1, `${proxy.inFlight.peak} requests at once`);
  for (const digest of graph.manifests) {
    const head = await fetch(`${registry.url}/v2/hostile/copied/manifests/${digest}`, {
      method: "HEAD",
      headers: { Accept: MANIFEST_ACCEPT },
    });
    assert.equal(head.status, 200, digest);
  }
  const tagged = await fetch(`${registry.url}/v2/hostile/copied/manifests/v2`, {
    method: "HEAD",
    headers: { Accept: MANIFEST_ACCEPT },
  });
  assert.equal(tagged.headers.get("docker-content-digest"), graph.root);
});

/** A layout target that counts manifest fetches. */
function counting(layout: OciLayout): { target: Target; fetches: string[] } {
  const fetches: string[] = [];
  const target: Target = {
    name: layout.name,
    resolve: (ref) => layout.resolve(ref),
    fetchManifest: (d) => {
      fetches.push(d.digest);
      return layout.fetchManifest(d);
    },
    fetchBlob: (d) => layout.fetchBlob(d),
    exists: (d) => layout.exists(d),
    pushBlob: (d, s) => layout.pushBlob(d, s),
    pushManifest: (d, b, t) => layout.pushManifest(d, b, t),
    tag: (d, t) => layout.tag(d, t),
    listTags: () => layout.listTags(),
  };
  return { target, fetches };
}

Deno.test("copy refuses a graph with more distinct nodes than the bound, before walking it all", async () => {
  await using dir = await tempDir();
  const source = await OciLayout.open(join(dir.path, "src"), { create: true });
  const layer = await storeBlob(source, new TextEncoder().encode("layer"), OCI.layerTar);
  const children: Descriptor[] = [];
  for (let i = 0; i < 30; i++) {
    const config = await storeBlob(source, json({ i }), OCI.config);
    children.push(
      await storeManifest(
        source,
        json({ schemaVersion: 2, mediaType: OCI.manifest, config, layers: [layer] }),
        OCI.manifest,
      ),
    );
  }
  await storeManifest(
    source,
    json({ schemaVersion: 2, mediaType: OCI.index, manifests: children }),
    OCI.index,
    "v1",
  );
  const { target, fetches } = counting(source);
  const destination = await OciLayout.open(join(dir.path, "dst"), { create: true });

  const refused = await copyGraph(target, "v1", destination, "v1", { maxNodes: 10 }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(refused instanceof ArtifactError, String(refused));
  assert.match(refused.message, /more than 10 distinct manifests and blobs \(the limit\)/);
  assert.ok(fetches.length <= 10, `${fetches.length} manifests fetched`);
  await assert.rejects(() => destination.resolve("v1"), NotFoundError);

  // Within the bound the same graph copies: 1 index, 30 manifests, 30 configs, 1 layer.
  const copied = await copyGraph(source, "v1", destination, "v1", { maxNodes: 62 });
  assert.equal(Object.keys(copied.nodes).length, 62);
});

Deno.test("copy reports an index cycle instead of walking it", async () => {
  // Digests cannot form a cycle, so this needs a target that does not verify them.
  const a = `sha256:${"a".repeat(64)}`;
  const b = `sha256:${"b".repeat(64)}`;
  const entry = (digest: string) => ({ mediaType: OCI.index, digest, size: 1 });
  const documents: Record<string, Uint8Array> = {
    [a]: json({ schemaVersion: 2, mediaType: OCI.index, manifests: [entry(b)] }),
    [b]: json({ schemaVersion: 2, mediaType: OCI.index, manifests: [entry(a)] }),
  };
  let fetches = 0;
  const unverified: Target = {
    name: "unverified",
    resolve: () => Promise.resolve(entry(a) as Descriptor),
    fetchManifest: (d) => {
      fetches++;
      return Promise.resolve(documents[d.digest]);
    },
    fetchBlob: () => Promise.reject(new Error("no blobs")),
    exists: () => Promise.resolve(false),
    pushBlob: () => Promise.reject(new Error("read-only")),
    pushManifest: () => Promise.reject(new Error("read-only")),
    tag: () => Promise.reject(new Error("read-only")),
    listTags: () => Promise.resolve([]),
  };
  await using dir = await tempDir();
  const destination = await OciLayout.open(dir.path, { create: true });
  await assert.rejects(
    () => copyGraph(unverified, "v1", destination, "v1"),
    (e: Error) => e instanceof ArtifactError && /a cycle/.test(e.message),
  );
  assert.equal(fetches, 2);
  // Nothing was pushed (the layout's blob directory is empty).
  assert.deepEqual([...Deno.readDirSync(join(dir.path, "blobs", "sha256"))], []);
});

Deno.test("copy counts depth on the longest path, also for a manifest first reached near the root", async () => {
  await using dir = await tempDir();
  const source = await OciLayout.open(join(dir.path, "src"), { create: true });
  const config = await storeBlob(source, json({}), OCI.config);
  const image = await storeManifest(
    source,
    json({ schemaVersion: 2, mediaType: OCI.manifest, config, layers: [] }),
    OCI.manifest,
  );
  const index = (manifests: Descriptor[], tag?: string) =>
    storeManifest(
      source,
      json({ schemaVersion: 2, mediaType: OCI.index, manifests }),
      OCI.index,
      tag,
    );
  // The image is listed by the root (depth 1) and at the end of a chain of indexes.
  const chain = async (levels: number) => {
    let inner = image;
    for (let i = 0; i < levels; i++) inner = await index([inner]);
    return inner;
  };
  await index([image, await chain(LIMITS.indexDepth - 1)], "ok");
  await index([image, await chain(LIMITS.indexDepth)], "deep");
  const destination = await OciLayout.open(join(dir.path, "dst"), { create: true });

  await copyGraph(source, "ok", destination, "ok");
  await assert.rejects(
    () => copyGraph(source, "deep", destination, "deep"),
    (e: Error) => e instanceof ArtifactError && /nested deeper than 4 levels/.test(e.message),
  );
  await assert.rejects(() => destination.resolve("deep"), NotFoundError);
});
