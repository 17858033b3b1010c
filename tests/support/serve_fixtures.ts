/**
 * Test support: serving the peer fixtures from a real registry, byte for
 * byte: blobs uploaded and manifests PUT with their original Content-Type by
 * plain HTTP requests, as the tools that wrote them did.
 */

import { sha256Digest } from "../../src/oci/digest.ts";
import { fixture, fixtureContentType, FIXTURES } from "./fixtures.ts";
import type { TestRegistry } from "./registry.ts";

/** Upload a blob (monolithic POST then PUT) to `repo`. */
export async function uploadBlobRaw(
  registry: TestRegistry,
  repo: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<void> {
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await start.body?.cancel();
  if (start.status !== 202) throw new Error(`POST upload: ${start.status}`);
  const location = new URL(start.headers.get("location")!, registry.url);
  location.searchParams.set("digest", sha256Digest(bytes));
  const put = await fetch(location, {
    method: "PUT",
    body: bytes,
    headers: { "content-type": "application/octet-stream" },
  });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`PUT blob: ${put.status}`);
}

/** PUT manifest bytes under `reference` (tag or digest) with their media type. */
export async function putManifestRaw(
  registry: TestRegistry,
  repo: string,
  reference: string,
  bytes: Uint8Array<ArrayBuffer>,
  contentType: string,
): Promise<void> {
  const put = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    body: bytes,
    headers: { "content-type": contentType },
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`PUT manifest: ${put.status} ${text}`);
}

/**
 * Serve fixture `name` (`imgpkg`, `imgpkg-bundle` or `buildah-index`) as
 * `repo:v1`; returns the digest of what `v1` points at.
 */
export async function serveFixture(
  registry: TestRegistry,
  name: string,
  repo: string,
): Promise<string> {
  if (name === "buildah-index") {
    for (const arch of ["amd64", "arm64"]) {
      await uploadBlobRaw(registry, repo, fixture(`${name}/config-${arch}.json`));
    }
    await uploadBlobRaw(registry, repo, fixture(`${name}/layer.tar.gz`));
    for (const arch of ["amd64", "arm64"]) {
      const bytes = fixture(`${name}/manifest-${arch}.json`);
      await putManifestRaw(
        registry,
        repo,
        sha256Digest(bytes),
        bytes,
        fixtureContentType(`${name}/manifest-${arch}.headers`),
      );
    }
    const index = fixture(`${name}/index.json`);
    await putManifestRaw(registry, repo, "v1", index, fixtureContentType(`${name}/index.headers`));
    return sha256Digest(index);
  }
  await uploadBlobRaw(registry, repo, fixture(`${name}/config.json`));
  await uploadBlobRaw(registry, repo, fixture(`${name}/layer.tar.gz`));
  const manifest = fixture(`${name}/manifest.json`);
  await putManifestRaw(
    registry,
    repo,
    "v1",
    manifest,
    fixtureContentType(`${name}/manifest.headers`),
  );
  return sha256Digest(manifest);
}

/**
 * Serve a fixture recorded as one file per digest (`<hex>.json`,
 * `<hex>.tar.gz`, each with `<hex>.headers` holding the registry's answer):
 * blobs first, then manifests children before parents, each with its
 * recorded Content-Type; the root (listed by no other manifest) is tagged
 * `tag`. Returns the root's digest.
 */
export async function serveDigestFixture(
  registry: TestRegistry,
  name: string,
  repo: string,
  tag = "v1",
): Promise<string> {
  const dir = `${FIXTURES}${name}`;
  const manifests = new Map<string, { bytes: Uint8Array<ArrayBuffer>; type: string }>();
  for (const entry of Deno.readDirSync(dir)) {
    const match = /^([0-9a-f]{64})\.(json|tar\.gz)$/.exec(entry.name);
    if (!match) continue;
    const bytes = fixture(`${name}/${entry.name}`);
    const type = fixtureContentType(`${name}/${match[1]}.headers`);
    if (type === "application/octet-stream") await uploadBlobRaw(registry, repo, bytes);
    else manifests.set(`sha256:${match[1]}`, { bytes, type });
  }
  const children = (bytes: Uint8Array): string[] =>
    (JSON.parse(new TextDecoder().decode(bytes)).manifests ?? []).map((m: { digest: string }) =>
      m.digest
    );
  const listed = new Set([...manifests.values()].flatMap((m) => children(m.bytes)));
  const pushed = new Set<string>();
  const push = async (digest: string, reference: string) => {
    if (pushed.has(digest)) return;
    const { bytes, type } = manifests.get(digest)!;
    for (const child of children(bytes)) await push(child, child);
    await putManifestRaw(registry, repo, reference, bytes, type);
    pushed.add(digest);
  };
  const roots = [...manifests.keys()].filter((d) => !listed.has(d));
  if (roots.length !== 1) throw new Error(`${name}: expected one root manifest, found ${roots}`);
  await push(roots[0], tag);
  return roots[0];
}
