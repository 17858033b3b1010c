/**
 * Test support: writing OCI image layouts by hand, including ones that lie
 * (blobs that do not match their digest, sizes that are wrong, manifests too
 * big or nested too deep), independently of the production layout writer.
 */

import { createHash } from "node:crypto";
import { join } from "node:path";

/** A descriptor as written into JSON; fields are not checked here. */
export interface RawDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** Media types used by the builders (literal, to stay independent of src/). */
export const MT = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerTar: "application/vnd.oci.image.layer.v1.tar",
  layerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
} as const;

const enc = new TextEncoder();

/** `sha256:<hex>` of bytes. */
export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A layout directory being written by a test. */
export class RawLayout {
  private constructor(readonly root: string) {}

  /** Create `root` with `oci-layout`, an empty `index.json` and `blobs/sha256`. */
  static async create(root: string): Promise<RawLayout> {
    await Deno.mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await Deno.writeTextFile(join(root, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const layout = new RawLayout(root);
    await layout.setIndex([]);
    return layout;
  }

  /** Path of the blob file for a digest. */
  blobPath(digest: string): string {
    return join(this.root, "blobs", "sha256", digest.slice("sha256:".length));
  }

  /** Store bytes under their true digest. */
  async addBlob(bytes: Uint8Array, mediaType: string): Promise<RawDescriptor> {
    const digest = sha256(bytes);
    await Deno.writeFile(this.blobPath(digest), bytes);
    return { mediaType, digest, size: bytes.byteLength };
  }

  /** Store a JSON document (exact bytes of JSON.stringify) under its digest. */
  async addJson(doc: unknown, mediaType: string): Promise<RawDescriptor> {
    return await this.addBlob(enc.encode(JSON.stringify(doc)), mediaType);
  }

  /** An image manifest with these layer descriptors and a minimal config. */
  async addManifest(
    layers: RawDescriptor[],
    extra: Record<string, unknown> = {},
  ): Promise<RawDescriptor> {
    const config = await this.addJson(
      { architecture: "", os: "", rootfs: { type: "layers", diff_ids: [] } },
      MT.config,
    );
    return await this.addJson(
      { schemaVersion: 2, mediaType: MT.manifest, config, layers, ...extra },
      MT.manifest,
    );
  }

  /** An image with one blob per layer (already compressed as `mediaType` says). */
  async addImage(layerBlobs: Uint8Array[], mediaType: string = MT.layerGzip) {
    const layers = [];
    for (const blob of layerBlobs) layers.push(await this.addBlob(blob, mediaType));
    return await this.addManifest(layers);
  }

  /** An index listing `manifests`. */
  async addIndex(manifests: RawDescriptor[]): Promise<RawDescriptor> {
    return await this.addJson({ schemaVersion: 2, mediaType: MT.index, manifests }, MT.index);
  }

  /** Replace index.json with these entries; `tag` entries get a ref.name annotation. */
  async setIndex(entries: (RawDescriptor & { tag?: string })[]): Promise<void> {
    const manifests = entries.map(({ tag, ...desc }) =>
      tag === undefined ? desc : {
        ...desc,
        annotations: { ...desc.annotations, "org.opencontainers.image.ref.name": tag },
      }
    );
    await Deno.writeTextFile(
      join(this.root, "index.json"),
      JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests }),
    );
  }
}
