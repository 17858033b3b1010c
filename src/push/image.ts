/**
 * Serialising the JSON documents of a push: image config, image manifest and
 * index. Key order is fixed and there is no timestamp, so the same inputs
 * always give the same bytes and digests.
 *
 * @module
 */

import { type Digest, sha256Digest } from "../oci/digest.ts";
import { OCI } from "../oci/media_types.ts";
import type { Platform } from "../oci/platform.ts";
import type {
  Annotations,
  Descriptor,
  ImageConfig,
  ImageIndex,
  ImageManifest,
} from "../oci/types.ts";
import { TOOL_ANNOTATION, TOOL_NAME, VERSION, VERSION_ANNOTATION } from "../version.ts";

// A fixed creation time: a real one would make every push a new digest.
const EPOCH = "1970-01-01T00:00:00Z";

/** A JSON document ready to push: its exact bytes and its descriptor. */
export interface Document {
  descriptor: Descriptor;
  bytes: Uint8Array<ArrayBuffer>;
}

/** Serialise a value as a pushed document of `mediaType`. */
export function toDocument(value: unknown, mediaType: string): Document {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength }, bytes };
}

/** The annotations artifact-cli puts on everything it pushes. */
export function toolAnnotations(): Annotations {
  return { [TOOL_ANNOTATION]: TOOL_NAME, [VERSION_ANNOTATION]: VERSION };
}

/**
 * An OCI image config for layers with these diff_ids. Without a platform,
 * `os` and `architecture` are empty strings, as imgpkg writes them: the
 * content is not tied to a platform.
 *
 * @example
 * ```ts
 * import { imageConfig } from "./image.ts";
 * const doc = imageConfig([]);
 * console.assert(doc.descriptor.mediaType === "application/vnd.oci.image.config.v1+json");
 * ```
 */
export function imageConfig(diffIds: Digest[], platform?: Platform): Document {
  const config: ImageConfig = {
    created: EPOCH,
    architecture: platform?.architecture ?? "",
    os: platform?.os ?? "",
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  if (platform?.variant) config.variant = platform.variant;
  config.config = {};
  config.history = diffIds.map(() => ({ created: EPOCH, created_by: TOOL_NAME }));
  return toDocument(config, OCI.config);
}

/** Options for {@link imageManifest}. */
export interface ManifestOptions {
  annotations?: Annotations;
  artifactType?: string;
  /** The manifest this one refers to (OCI 1.1 `subject`: a signature, an SBOM). */
  subject?: Descriptor;
}

/** An OCI image manifest; tool annotations are always added. */
export function imageManifest(
  config: Descriptor,
  layers: Descriptor[],
  options: ManifestOptions = {},
): Document {
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: OCI.manifest, config, layers };
  if (options.artifactType) {
    // artifactType goes before config, as oras writes it; order affects the digest only.
    const { schemaVersion, mediaType, ...rest } = manifest;
    return toDocument(
      {
        schemaVersion,
        mediaType,
        artifactType: options.artifactType,
        ...rest,
        ...(options.subject ? { subject: options.subject } : {}),
        annotations: { ...options.annotations, ...toolAnnotations() },
      },
      OCI.manifest,
    );
  }
  if (options.subject) manifest.subject = options.subject;
  manifest.annotations = { ...options.annotations, ...toolAnnotations() };
  return toDocument(manifest, OCI.manifest);
}

/** An OCI index over platform manifests; tool annotations are always added. */
export function imageIndex(manifests: Descriptor[], annotations?: Annotations): Document {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: OCI.index,
    manifests,
    annotations: { ...annotations, ...toolAnnotations() },
  };
  return toDocument(index, OCI.index);
}
