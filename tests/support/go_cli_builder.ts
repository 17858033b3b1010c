/**
 * Test support: content exactly as the Go educates artifact-cli pushes it
 * (github.com/jorgemoralespou/educates-artifact-cli, pkg/artifact/oci,
 * `PushImageIndex` / `PushSingleManifest`, built on oras-go):
 *
 * - one tar+gzip layer of the folder (Go's archive/tar walk: a `.` directory
 *   entry first, then every path relative to the folder), shared by all
 *   platforms;
 * - per platform (linux/amd64, linux/arm64, plus the host's when it is
 *   neither) a manifest with config `{}` under the OCI *image config* media
 *   type, that layer, and the annotations map — which the Go code shares
 *   between all manifests and the index and mutates for each platform, so
 *   each manifest carries its own `org.opencontainers.image.platform` and
 *   the index the last one's;
 * - an OCI index of those manifests (platform on each entry), tagged.
 *
 * JSON is written as Go's encoding/json does: struct fields in declaration
 * order (ocispec.Manifest: schemaVersion, mediaType, config, layers,
 * annotations; Descriptor: mediaType, digest, size, platform; Platform:
 * architecture, os), map keys sorted, no whitespace.
 */

import { sha256Digest } from "../../src/oci/digest.ts";
import { putManifestRaw, uploadBlobRaw } from "./serve_fixtures.ts";
import type { TestRegistry } from "./registry.ts";
import { buildTarGz, type RawEntry } from "./tar_builder.ts";

const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

/** What {@link pushGoCliContent} stored. */
export interface GoCliContent {
  indexDigest: string;
  index: Uint8Array<ArrayBuffer>;
  /** Per platform `os/arch`: the manifest's digest and bytes. */
  manifests: Map<string, { digest: string; bytes: Uint8Array<ArrayBuffer> }>;
  layer: Uint8Array<ArrayBuffer>;
}

/** The platforms the Go tool pushes when given none: amd64, arm64 and the host's. */
export function goDefaultPlatforms(hostArch: string): string[] {
  const platforms = ["linux/amd64", "linux/arm64"];
  if (!platforms.includes(`linux/${hostArch}`)) platforms.push(`linux/${hostArch}`);
  return platforms;
}

/** The manifest bytes for one platform (keys sorted as Go sorts map keys). */
export function goManifest(
  config: Uint8Array,
  layer: Uint8Array,
  annotations: Record<string, string>,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: CONFIG, digest: sha256Digest(config), size: config.byteLength },
    layers: [{ mediaType: LAYER, digest: sha256Digest(layer), size: layer.byteLength }],
    annotations: sorted(annotations),
  }));
}

function sorted(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a < b ? -1 : 1));
}

/**
 * Push `files` (relative path → content; directories implied) to
 * `repo:tag` as the Go tool does. `platforms` defaults to the Go tool's.
 */
export async function pushGoCliContent(
  registry: TestRegistry,
  repo: string,
  tag: string,
  files: Record<string, string>,
  options: { platforms?: string[]; config?: string } = {},
): Promise<GoCliContent> {
  const entries: RawEntry[] = [{ name: ".", type: "5", mode: 0o755 }];
  const dirs = new Set<string>();
  for (const path of Object.keys(files).sort()) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!dirs.has(dir)) entries.push({ name: dir, type: "5", mode: 0o755 });
      dirs.add(dir);
    }
    entries.push({ name: path, content: files[path], mode: 0o644 });
  }
  const layer = buildTarGz(entries);
  const config = new TextEncoder().encode(options.config ?? "{}");
  await uploadBlobRaw(registry, repo, layer);
  await uploadBlobRaw(registry, repo, config);
  // One map, shared and mutated, as in the Go code.
  const annotations: Record<string, string> = {
    "org.opencontainers.image.title": "artifact-cli artifact",
    "org.opencontainers.image.description": "Created by artifact-cli",
  };
  const manifests = new Map<string, { digest: string; bytes: Uint8Array<ArrayBuffer> }>();
  const descriptors: unknown[] = [];
  for (const platform of options.platforms ?? goDefaultPlatforms(hostArch())) {
    const [os, architecture] = platform.split("/");
    annotations["org.opencontainers.image.platform"] = `${os}/${architecture}`;
    const bytes = goManifest(config, layer, annotations);
    const digest = sha256Digest(bytes);
    await putManifestRaw(registry, repo, digest, bytes, MANIFEST);
    manifests.set(platform, { digest, bytes });
    descriptors.push({
      mediaType: MANIFEST,
      digest,
      size: bytes.byteLength,
      platform: { architecture, os },
    });
  }
  const index = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: INDEX,
    manifests: descriptors,
    annotations: sorted(annotations),
  }));
  await putManifestRaw(registry, repo, tag, index, INDEX);
  return { indexDigest: sha256Digest(index), index, manifests, layer };
}

/** The host's architecture as Go's runtime.GOARCH names it. */
export function hostArch(): string {
  return Deno.build.arch === "x86_64" ? "amd64" : "arm64";
}
