/**
 * The OCI image-spec data types (which also describe Docker v2 schema 2
 * manifests and manifest lists). Every module uses these; none defines its own.
 *
 * @module
 */

import type { Digest } from "./digest.ts";
import type { Platform } from "./platform.ts";

/** String-to-string annotations. */
export type Annotations = Record<string, string>;

/** A content descriptor: what a blob or manifest is, how big, and its digest. */
export interface Descriptor {
  /** Media type of the referenced content. */
  mediaType: string;
  /** Digest of the referenced content. */
  digest: Digest;
  /** Size of the referenced content in bytes. */
  size: number;
  /** Other places the content can be fetched from. */
  urls?: string[];
  /** Annotations of the descriptor. */
  annotations?: Annotations;
  /** Base64 embedded content (OCI 1.1). */
  data?: string;
  /** Platform of the manifest (index entries only). */
  platform?: Platform;
  /** Artifact type of the referenced manifest. */
  artifactType?: string;
}

/** An image manifest (OCI) or a Docker v2 schema 2 manifest. */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: 2;
  /** `application/vnd.oci.image.manifest.v1+json` or a Docker media type. */
  mediaType?: string;
  /** Type of an artifact (when the config is not an image config). */
  artifactType?: string;
  /** The config blob. */
  config: Descriptor;
  /** The layer blobs, in order. */
  layers: Descriptor[];
  /** The manifest this one is about (referrers). */
  subject?: Descriptor;
  /** Annotations of the manifest. */
  annotations?: Annotations;
}

/** An image index (OCI) or a Docker manifest list. */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** `application/vnd.oci.image.index.v1+json` or a Docker media type. */
  mediaType?: string;
  /** Type of an artifact index. */
  artifactType?: string;
  /** The manifests listed. */
  manifests: Descriptor[];
  /** The manifest this one is about (referrers). */
  subject?: Descriptor;
  /** Annotations of the index. */
  annotations?: Annotations;
}

/** The container configuration inside an image config. */
export interface ContainerConfig {
  /** User the process runs as. */
  User?: string;
  /** Ports to expose, as keys. */
  ExposedPorts?: Record<string, unknown>;
  /** Environment, `NAME=value` each. */
  Env?: string[];
  /** Entrypoint argv. */
  Entrypoint?: string[] | null;
  /** Default arguments. */
  Cmd?: string[] | null;
  /** Volumes, as keys. */
  Volumes?: Record<string, unknown>;
  /** Working directory. */
  WorkingDir?: string;
  /** Image labels. */
  Labels?: Record<string, string>;
  /** Signal that stops the container. */
  StopSignal?: string;
}

/** One entry of an image's history. */
export interface HistoryEntry {
  /** When the step ran (RFC 3339). */
  created?: string;
  /** The command of the step. */
  created_by?: string;
  /** Author of the step. */
  author?: string;
  /** Free-form comment. */
  comment?: string;
  /** True when the step added no layer. */
  empty_layer?: boolean;
}

/** An image configuration (OCI) or Docker container image config. */
export interface ImageConfig {
  /** When the image was created (RFC 3339). */
  created?: string;
  /** Author of the image. */
  author?: string;
  /** CPU architecture, e.g. `amd64`. */
  architecture: string;
  /** Operating system, e.g. `linux`. */
  os: string;
  /** Operating system version (Windows). */
  "os.version"?: string;
  /** Required operating system features (Windows). */
  "os.features"?: string[];
  /** CPU variant, e.g. `v8`. */
  variant?: string;
  /** Runtime defaults of the container. */
  config?: ContainerConfig;
  /** The uncompressed layer digests, in order. */
  rootfs: { type: "layers"; diff_ids: Digest[] };
  /** How the image was built, one entry per step. */
  history?: HistoryEntry[];
}

/** A parsed manifest or index, tagged so callers can switch on `kind`. */
export type ParsedManifest =
  | { kind: "manifest"; manifest: ImageManifest }
  | { kind: "index"; index: ImageIndex };
