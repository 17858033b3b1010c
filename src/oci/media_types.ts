/**
 * Media types of the OCI image spec and of Docker's distribution formats.
 *
 * @module
 */

/** OCI media types. */
export const OCI = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerTar: "application/vnd.oci.image.layer.v1.tar",
  layerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerTarZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  layerNondistributableTar: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  layerNondistributableTarGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  layerNondistributableTarZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  empty: "application/vnd.oci.empty.v1+json",
  layout: "application/vnd.oci.layout.header.v1+json",
} as const;

/** Docker (v2 schema 2) media types. */
export const DOCKER = {
  manifest: "application/vnd.docker.distribution.manifest.v2+json",
  manifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  config: "application/vnd.docker.container.image.v1+json",
  layerTarGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  layerTar: "application/vnd.docker.image.rootfs.diff.tar",
  layerForeignTarGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  pluginConfig: "application/vnd.docker.plugin.v1+json",
} as const;

/** Helm's media types (helm.sh/helm/v3 pkg/registry/constants.go). */
export const HELM = {
  /** The config: the chart's Chart.yaml metadata as JSON. */
  config: "application/vnd.cncf.helm.config.v1+json",
  /** The chart: the `helm package` .tgz, byte for byte. */
  chart: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
  /** The chart layer of Helm 3.0-3.6 pushes (helm still reads it, with a warning). */
  legacyChart: "application/tar+gzip",
  /** The provenance file (`helm package --sign`), `NAME-VERSION.tgz.prov`. */
  provenance: "application/vnd.cncf.helm.chart.provenance.v1.prov",
} as const;

/** Media types of an image manifest (a single image or artifact). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [OCI.manifest, DOCKER.manifest];

/** Media types of an index (a list of manifests). */
export const INDEX_MEDIA_TYPES: readonly string[] = [OCI.index, DOCKER.manifestList];

/** The `Accept` header a client sends to receive any manifest or index. */
export const MANIFEST_ACCEPT: string = [...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES].join(", ");

/** Compression of a tar layer. */
export type LayerCompression = "gzip" | "zstd" | "none";

/** What a layer media type says about its content. */
export interface LayerKind {
  /** The layer is a tar archive (an image filesystem layer). */
  tar: boolean;
  /** How the tar is compressed; `none` also for non-tar layers. */
  compression: LayerCompression;
  /** Foreign / non-distributable: content may live elsewhere; not pulled. */
  foreign: boolean;
}

const LAYER_KINDS: Record<string, LayerKind> = {
  [OCI.layerTar]: { tar: true, compression: "none", foreign: false },
  [OCI.layerTarGzip]: { tar: true, compression: "gzip", foreign: false },
  [OCI.layerTarZstd]: { tar: true, compression: "zstd", foreign: false },
  [OCI.layerNondistributableTar]: { tar: true, compression: "none", foreign: true },
  [OCI.layerNondistributableTarGzip]: { tar: true, compression: "gzip", foreign: true },
  [OCI.layerNondistributableTarZstd]: { tar: true, compression: "zstd", foreign: true },
  [DOCKER.layerTarGzip]: { tar: true, compression: "gzip", foreign: false },
  [DOCKER.layerTar]: { tar: true, compression: "none", foreign: false },
  [DOCKER.layerForeignTarGzip]: { tar: true, compression: "gzip", foreign: true },
};

/**
 * Classify a layer media type.
 *
 * @example
 * ```ts
 * import { layerKind } from "./media_types.ts";
 * console.assert(layerKind("application/vnd.oci.image.layer.v1.tar+zstd").compression === "zstd");
 * console.assert(layerKind("text/yaml").tar === false);
 * ```
 */
export function layerKind(mediaType: string): LayerKind {
  return LAYER_KINDS[mediaType] ?? { tar: false, compression: "none", foreign: false };
}

/**
 * The OCI layer media type for a tar with the given compression.
 *
 * @example
 * ```ts
 * import { ociLayerMediaType } from "./media_types.ts";
 * console.assert(ociLayerMediaType("gzip") === "application/vnd.oci.image.layer.v1.tar+gzip");
 * ```
 */
export function ociLayerMediaType(compression: LayerCompression): string {
  switch (compression) {
    case "gzip":
      return OCI.layerTarGzip;
    case "zstd":
      return OCI.layerTarZstd;
    case "none":
      return OCI.layerTar;
  }
}

/**
 * True for the config media types of container images (OCI and Docker).
 *
 * @example
 * ```ts
 * import { isImageConfigMediaType } from "./media_types.ts";
 * console.assert(isImageConfigMediaType("application/vnd.oci.image.config.v1+json"));
 * ```
 */
export function isImageConfigMediaType(mediaType: string): boolean {
  return mediaType === OCI.config || mediaType === DOCKER.config;
}
