/**
 * Test support: OCI layouts assembled from the peer fixtures' bytes, and
 * layouts of shapes no fixture has (buildx indexes with attestations, Docker
 * manifest lists, multi-layer images), built from their documented format.
 */

import zlib from "node:zlib";
import { OciLayout } from "../../src/layout/oci_layout.ts";
import { sha256Digest } from "../../src/oci/digest.ts";
import { DOCKER, OCI } from "../../src/oci/media_types.ts";
import type { Descriptor } from "../../src/oci/types.ts";
import { bytesSource } from "../../src/target.ts";
import { encodeHeader } from "../../src/archive/tar_header.ts";
import { fixture, fixtureContentType } from "./fixtures.ts";

const encoder = new TextEncoder();

/** Store a blob; returns its descriptor. */
export async function storeBlob(
  layout: OciLayout,
  bytes: Uint8Array,
  mediaType = "application/octet-stream",
  extra: Partial<Descriptor> = {},
): Promise<Descriptor> {
  const descriptor: Descriptor = {
    mediaType,
    digest: sha256Digest(bytes),
    size: bytes.byteLength,
    ...extra,
  };
  await layout.pushBlob(descriptor, bytesSource(bytes));
  return descriptor;
}

/** Store a manifest's exact bytes (optionally tagged); returns its descriptor. */
export async function storeManifest(
  layout: OciLayout,
  bytes: Uint8Array,
  mediaType: string,
  tag?: string,
): Promise<Descriptor> {
  const descriptor: Descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
  await layout.pushManifest(descriptor, bytes, tag);
  return descriptor;
}

/** Serialise a JSON document. */
export function json(value: unknown): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(value));
}

/**
 * A layout holding a fixture pushed by imgpkg (`imgpkg` or `imgpkg-bundle`),
 * its manifest stored byte for byte with its served media type, tagged `v1`.
 */
export async function imgpkgFixtureLayout(root: string, name: string): Promise<OciLayout> {
  const layout = await OciLayout.open(root, { create: true });
  await storeBlob(layout, fixture(`${name}/config.json`), DOCKER.config);
  await storeBlob(layout, fixture(`${name}/layer.tar.gz`), DOCKER.layerTarGzip);
  await storeManifest(
    layout,
    fixture(`${name}/manifest.json`),
    fixtureContentType(`${name}/manifest.headers`),
    "v1",
  );
  return layout;
}

/** A layout holding the buildah-index fixture (index, two manifests, configs, shared layer). */
export async function buildahFixtureLayout(root: string): Promise<OciLayout> {
  const layout = await OciLayout.open(root, { create: true });
  for (const arch of ["amd64", "arm64"]) {
    await storeBlob(layout, fixture(`buildah-index/config-${arch}.json`), OCI.config);
    await storeManifest(
      layout,
      fixture(`buildah-index/manifest-${arch}.json`),
      fixtureContentType(`buildah-index/manifest-${arch}.headers`),
    );
  }
  await storeBlob(layout, fixture("buildah-index/layer.tar.gz"), OCI.layerTarGzip);
  await storeManifest(
    layout,
    fixture("buildah-index/index.json"),
    fixtureContentType("buildah-index/index.headers"),
    "v1",
  );
  return layout;
}

/** One file of a synthetic tar layer. */
export interface TarFile {
  name: string;
  content?: string;
  mode?: number;
  type?: "file" | "directory";
}

/** An uncompressed tar archive of `files`, in the order given (whiteouts are plain names). */
export function tarOf(files: TarFile[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const body = encoder.encode(f.content ?? "");
    const type = f.type ?? "file";
    parts.push(encodeHeader({
      name: f.name,
      type,
      mode: f.mode ?? (type === "directory" ? 0o755 : 0o644),
      size: type === "file" ? body.byteLength : 0,
    }));
    if (type === "file" && body.byteLength) {
      parts.push(body, new Uint8Array((512 - body.byteLength % 512) % 512));
    }
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** gzip bytes. */
export function gzip(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(zlib.gzipSync(bytes));
}

/** zstd bytes (node:zlib). */
export function zstd(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  // deno-lint-ignore no-explicit-any
  return new Uint8Array((zlib as any).zstdCompressSync(bytes));
}

/** Options for {@link storeImage}. */
export interface ImageSpec {
  /** Layers as [mediaType, compressed bytes, uncompressed tar]. */
  layers: {
    mediaType: string;
    blob: Uint8Array;
    tar: Uint8Array;
    annotations?: Record<string, string>;
  }[];
  os?: string;
  architecture?: string;
  variant?: string;
  docker?: boolean;
  tag?: string;
  annotations?: Record<string, string>;
}

/** Store an image (config + layers + manifest); returns the manifest descriptor. */
export async function storeImage(layout: OciLayout, spec: ImageSpec): Promise<Descriptor> {
  const config = {
    architecture: spec.architecture ?? "amd64",
    os: spec.os ?? "linux",
    ...(spec.variant ? { variant: spec.variant } : {}),
    rootfs: { type: "layers", diff_ids: spec.layers.map((l) => sha256Digest(l.tar)) },
  };
  const configDesc = await storeBlob(
    layout,
    json(config),
    spec.docker ? DOCKER.config : OCI.config,
  );
  const layers: Descriptor[] = [];
  for (const l of spec.layers) {
    layers.push(
      await storeBlob(
        layout,
        l.blob,
        l.mediaType,
        l.annotations ? { annotations: l.annotations } : {},
      ),
    );
  }
  const mediaType = spec.docker ? DOCKER.manifest : OCI.manifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: configDesc,
    layers,
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  return await storeManifest(layout, json(manifest), mediaType, spec.tag);
}

/**
 * A docker buildx-shaped index (seed 000 + Docker's attestation storage
 * docs): one OCI image per platform, each followed by an attestation
 * manifest (platform unknown/unknown, `vnd.docker.reference.type:
 * attestation-manifest`, in-toto layer). Each image holds one file
 * `arch.txt` naming its architecture, so tests can see which was pulled.
 */
export async function buildxLayout(
  root: string,
  platforms: { os: string; architecture: string; variant?: string }[],
  options: { attestations?: boolean; tag?: string; docker?: boolean } = {},
): Promise<
  { layout: OciLayout; index: Descriptor; images: Descriptor[]; attestations: Descriptor[] }
> {
  const layout = await OciLayout.open(root, { create: true });
  const entries: Descriptor[] = [];
  const images: Descriptor[] = [];
  const attestations: Descriptor[] = [];
  for (const p of platforms) {
    const tar = tarOf([{ name: "arch.txt", content: `${p.architecture}${p.variant ?? ""}\n` }]);
    const image = await storeImage(layout, {
      os: p.os,
      architecture: p.architecture,
      variant: p.variant,
      docker: options.docker,
      layers: [{
        mediaType: options.docker ? DOCKER.layerTarGzip : OCI.layerTarGzip,
        blob: gzip(tar),
        tar,
      }],
    });
    images.push(image);
    entries.push({ ...image, platform: p });
    if (options.attestations !== false && !options.docker) {
      // The attestation's layer is in-toto JSON, not a tar: pulling it would fail loudly.
      const statement = json({ _type: "https://in-toto.io/Statement/v0.1", subject: [] });
      const layer = await storeBlob(layout, statement, "application/vnd.in-toto+json", {
        annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" },
      });
      const config = await storeBlob(
        layout,
        json({ architecture: "unknown", os: "unknown", rootfs: { type: "layers", diff_ids: [] } }),
        OCI.config,
      );
      const manifest = await storeManifest(
        layout,
        json({ schemaVersion: 2, mediaType: OCI.manifest, config, layers: [layer] }),
        OCI.manifest,
      );
      attestations.push(manifest);
      entries.push({
        ...manifest,
        platform: { os: "unknown", architecture: "unknown" },
        annotations: {
          "vnd.docker.reference.digest": image.digest,
          "vnd.docker.reference.type": "attestation-manifest",
        },
      });
    }
  }
  const mediaType = options.docker ? DOCKER.manifestList : OCI.index;
  const index = await storeManifest(
    layout,
    json({ schemaVersion: 2, mediaType, manifests: entries }),
    mediaType,
    options.tag ?? "v1",
  );
  return { layout, index, images, attestations };
}
