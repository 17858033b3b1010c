/**
 * The format detector: what tool (or shape) produced a manifest or index,
 * with the evidence, so that pull can apply the right rules and `describe`
 * can say why.
 *
 * @module
 */

import { DOCKER, HELM, isImageConfigMediaType, OCI } from "../oci/media_types.ts";
import { formatPlatform, isUnknownPlatform } from "../oci/platform.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from "../oci/types.ts";
import { TOOL_ANNOTATION, TOOL_NAME } from "../version.ts";

/** The kinds of content the detector tells apart. */
export type FormatKind =
  /** A single manifest pushed by artifact-cli (image or per-file artifact). */
  | "artifact-cli"
  /** An index pushed by artifact-cli with `--platform`. */
  | "artifact-cli-index"
  /** A manifest pushed by the Go educates artifact-cli (config `{}`, one tar+gzip layer). */
  | "artifact-cli-go"
  /** The index the Go educates artifact-cli always pushes (one entry per platform). */
  | "artifact-cli-go-index"
  /** A Helm chart (`helm push`): pulled as NAME-VERSION.tgz. */
  | "helm-chart"
  /** A Carvel imgpkg image (`imgpkg push -i`). */
  | "imgpkg-image"
  /** A Carvel imgpkg bundle (`imgpkg push -b`). */
  | "imgpkg-bundle"
  /** An OCI index of platform images (docker buildx, buildah, podman), maybe with attestations. */
  | "buildx-index"
  /** A Docker manifest list. */
  | "docker-manifest-list"
  /** An OCI index whose entries carry no platforms (e.g. a collection of artifacts). */
  | "oci-index"
  /** A plain OCI or Docker image. */
  | "image"
  /** An OCI artifact: `artifactType`, or a config that is not an image config. */
  | "artifact";

/** What the detector found. */
export interface DetectedFormat {
  /** What kind of content it is. */
  kind: FormatKind;
  /** Human-readable name, e.g. `imgpkg bundle`. */
  label: string;
  /** Why: one line per fact that decided it. */
  evidence: string[];
  /** For indexes: whether buildx attestation manifests are present. */
  attestations?: boolean;
  /** For artifacts: the artifact type (`artifactType`, else the config media type). */
  artifactType?: string;
  /** For Helm charts: the chart's name and version (from its config). */
  chart?: HelmChart;
  /** For Helm charts whose config names no chart: why (pull refuses them). */
  chartProblem?: string;
}

/** A Helm chart's name and version, as its config gives them. */
export interface HelmChart {
  /** Chart name. */
  name: string;
  /** Chart version (SemVer). */
  version: string;
}

/** Facts about the config that the manifest alone does not show. */
export interface ConfigFacts {
  /** The config's text when it is short and not a valid image config (e.g. `{}`). */
  configShape?: string;
  /** The chart named by a Helm config. */
  chart?: HelmChart;
  /** Why a Helm config names no chart (not JSON, no string name or version). */
  chartProblem?: string;
}

/** Helm's config media type (the chart's Chart.yaml metadata as JSON). */
export const HELM_CONFIG: typeof HELM.config = HELM.config;
/** The title the Go educates artifact-cli gives every manifest and index it pushes. */
export const GO_CLI_TITLE = "artifact-cli artifact";
/** Annotation the Go artifact-cli sets to `os/arch` on each manifest (and, shared, on the index). */
export const GO_CLI_PLATFORM_ANNOTATION = "org.opencontainers.image.platform";
const TITLE = "org.opencontainers.image.title";

/** Annotation buildx puts on attestation manifests in an index. */
export const REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";
/** Annotation naming the image manifest an attestation is about. */
export const REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest";
/** Config label imgpkg sets on bundles. */
export const IMGPKG_BUNDLE_LABEL = "dev.carvel.imgpkg.bundle";

/**
 * True for index entries that are not runnable images (buildx attestations).
 *
 * @example
 * ```ts
 * import { isAttestationEntry } from "./detect.ts";
 * const entry = {
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest: `sha256:${"0".repeat(64)}` as const,
 *   size: 1,
 *   platform: { os: "linux", architecture: "amd64" },
 * };
 * console.assert(!isAttestationEntry(entry));
 * ```
 */
export function isAttestationEntry(entry: Descriptor): boolean {
  return entry.annotations?.[REFERENCE_TYPE_ANNOTATION] === "attestation-manifest" ||
    isUnknownPlatform(entry.platform);
}

/**
 * The platforms of index entries, each once in index order, with a count
 * when several entries share one: `linux/amd64, gardenlinux/arm64 (3
 * entries)`. Empty when no entry names a platform.
 *
 * @example
 * ```ts
 * import { platformList } from "./detect.ts";
 * const d = (architecture: string) => ({
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest: `sha256:${"0".repeat(64)}` as const, size: 1,
 *   platform: { os: "linux", architecture },
 * });
 * console.assert(platformList([d("amd64"), d("arm64"), d("arm64")]) ===
 *   "linux/amd64, linux/arm64 (2 entries)");
 * ```
 */
export function platformList(entries: Descriptor[]): string {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.platform) continue;
    const name = formatPlatform(entry.platform);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, n]) => n > 1 ? `${name} (${n} entries)` : name).join(", ");
}

/**
 * Classify an index or manifest list.
 *
 * @example
 * ```ts
 * import { detectIndexFormat } from "./detect.ts";
 * const format = detectIndexFormat({ schemaVersion: 2, manifests: [] });
 * console.assert(format.kind === "oci-index");
 * ```
 */
export function detectIndexFormat(index: ImageIndex): DetectedFormat {
  const attestations = index.manifests.filter(isAttestationEntry);
  const images = index.manifests.filter((m) => !isAttestationEntry(m));
  const platforms = platformList(images);
  const platformLine = platforms ? `entries for ${platforms}` : "no entry carries a platform";
  if (index.annotations?.[TOOL_ANNOTATION] === TOOL_NAME) {
    return {
      kind: "artifact-cli-index",
      label: "artifact-cli multi-platform push",
      evidence: [`index annotation ${TOOL_ANNOTATION}: ${TOOL_NAME}`, platformLine],
      attestations: attestations.length > 0,
    };
  }
  if (index.annotations?.[TITLE] === GO_CLI_TITLE) {
    return {
      kind: "artifact-cli-go-index",
      label: "artifact-cli (Go) multi-platform push",
      evidence: [
        `index annotation ${TITLE}: ${GO_CLI_TITLE} (what the Go educates artifact-cli writes)`,
        platformLine,
      ],
      attestations: attestations.length > 0,
    };
  }
  if (index.mediaType === DOCKER.manifestList) {
    return {
      kind: "docker-manifest-list",
      label: "Docker manifest list",
      evidence: [`media type ${DOCKER.manifestList}`, platformLine],
      attestations: attestations.length > 0,
    };
  }
  const evidence = [`media type ${index.mediaType ?? `${OCI.index} (implied)`}`, platformLine];
  if (!platforms) {
    return { kind: "oci-index", label: "OCI image index", evidence, attestations: false };
  }
  if (attestations.length) {
    evidence.push(
      `${attestations.length} attestation manifest${
        attestations.length > 1 ? "s" : ""
      } (${REFERENCE_TYPE_ANNOTATION}: attestation-manifest, platform unknown/unknown)`,
    );
  }
  return {
    kind: "buildx-index",
    label: `multi-platform OCI index (buildx shape) ${
      attestations.length ? "with" : "without"
    } attestations`,
    evidence,
    attestations: attestations.length > 0,
  };
}

/**
 * Classify an image manifest. `config` is the parsed image config when the
 * manifest's config is an image config (imgpkg is recognised by it);
 * undefined otherwise.
 *
 * @example
 * ```ts
 * import { detectManifestFormat } from "./detect.ts";
 * const format = detectManifestFormat({
 *   schemaVersion: 2,
 *   config: {
 *     mediaType: "application/vnd.oci.empty.v1+json",
 *     digest: `sha256:${"0".repeat(64)}`,
 *     size: 2,
 *   },
 *   layers: [],
 * });
 * console.assert(format.kind === "artifact");
 * ```
 */
export function detectManifestFormat(
  manifest: ImageManifest,
  config?: ImageConfig,
  facts: ConfigFacts = {},
): DetectedFormat {
  const mediaType = manifest.mediaType ?? `${OCI.manifest} (implied)`;
  const configType = manifest.config.mediaType;
  const artifactType = manifest.artifactType ??
    (isImageConfigMediaType(configType) ? undefined : configType);
  const artifactEvidence = manifest.artifactType
    ? `artifactType ${manifest.artifactType}`
    : configType === OCI.empty
    ? `empty config (${OCI.empty})`
    : `config media type ${configType} is not an image config`;

  if (manifest.annotations?.[TOOL_ANNOTATION] === TOOL_NAME) {
    const evidence = [`manifest annotation ${TOOL_ANNOTATION}: ${TOOL_NAME}`];
    if (artifactType) evidence.push(artifactEvidence);
    const format: DetectedFormat = {
      kind: "artifact-cli",
      label: artifactType ? "artifact-cli push (per-file artifact)" : "artifact-cli push",
      evidence,
    };
    if (artifactType) format.artifactType = artifactType;
    return format;
  }
  if (configType === HELM_CONFIG) return helmFormat(configType, facts);
  if (manifest.annotations?.[TITLE] === GO_CLI_TITLE) {
    const evidence = [
      `manifest annotation ${TITLE}: ${GO_CLI_TITLE} (what the Go educates artifact-cli writes)`,
    ];
    const platform = manifest.annotations[GO_CLI_PLATFORM_ANNOTATION];
    if (platform) evidence.push(`manifest annotation ${GO_CLI_PLATFORM_ANNOTATION}: ${platform}`);
    if (facts.configShape !== undefined) {
      evidence.push(
        `config ${JSON.stringify(facts.configShape)} under ${configType}: not an image config`,
      );
    }
    return { kind: "artifact-cli-go", label: "artifact-cli (Go) push", evidence };
  }
  if (artifactType) {
    return {
      kind: "artifact",
      label: "OCI artifact",
      evidence: [artifactEvidence],
      artifactType,
    };
  }
  const labels = config?.config?.Labels ?? {};
  if (labels[IMGPKG_BUNDLE_LABEL] !== undefined) {
    return {
      kind: "imgpkg-bundle",
      label: "imgpkg bundle",
      evidence: [
        `config label ${IMGPKG_BUNDLE_LABEL}: ${JSON.stringify(labels[IMGPKG_BUNDLE_LABEL])}`,
        `media type ${mediaType}`,
      ],
    };
  }
  const imgpkg = imgpkgEvidence(manifest, config);
  if (imgpkg) return { kind: "imgpkg-image", label: "imgpkg image", evidence: imgpkg };
  const evidence = [`media type ${mediaType}`, `config media type ${configType}`];
  if (config?.os || config?.architecture) {
    evidence.push(`config platform ${formatPlatform(config)}`);
  }
  return {
    kind: "image",
    label: manifest.mediaType === DOCKER.manifest ? "Docker image" : "OCI image",
    evidence,
  };
}

/**
 * A Helm chart, recognised by its config media type alone (helm itself
 * looks at nothing else). The name and version are shown as the config
 * gives them; text output escapes them, pull validates them.
 */
function helmFormat(configType: string, facts: ConfigFacts): DetectedFormat {
  const evidence = [`config media type ${HELM_CONFIG}`];
  if (!facts.chart) {
    const problem = facts.chartProblem ?? "the Helm config was not read";
    evidence.push(problem);
    return {
      kind: "helm-chart",
      label: "Helm chart (no usable name and version)",
      evidence,
      artifactType: configType,
      chartProblem: problem,
    };
  }
  const { name, version } = facts.chart;
  evidence.push(`config name ${JSON.stringify(name)}, version ${JSON.stringify(version)}`);
  return {
    kind: "helm-chart",
    label: `Helm chart ${name} ${version}`,
    evidence,
    artifactType: configType,
    chart: facts.chart,
  };
}

/**
 * imgpkg writes a Docker v2 manifest with a Docker config whose history is
 * `created_by: imgpkg` (0.x releases) and whose os/architecture are empty.
 * The history entry alone is decisive, whatever the media types: a copy
 * converted to OCI media types (`skopeo copy --format oci`, registry
 * replication) keeps the config's history, and imgpkg itself pulls such a
 * copy with its mode mapping. An empty platform with Docker media types and
 * gzip layers is the same shape from releases that wrote no history.
 */
function imgpkgEvidence(manifest: ImageManifest, config?: ImageConfig): string[] | undefined {
  if (!config) return undefined;
  const types = [
    `media type ${manifest.mediaType ?? `${OCI.manifest} (implied)`}`,
    `config media type ${manifest.config.mediaType}`,
  ];
  // Every entry: an image built FROM imgpkg content (more history) is not imgpkg's.
  const history = config.history ?? [];
  if (
    history.length > 0 && history.every((h) => h.created_by === "imgpkg" || h.author === "imgpkg")
  ) {
    return [...types, "config history created_by imgpkg"];
  }
  if (manifest.mediaType !== DOCKER.manifest || manifest.config.mediaType !== DOCKER.config) {
    return undefined;
  }
  const allGzip = manifest.layers.length > 0 &&
    manifest.layers.every((l) => l.mediaType === DOCKER.layerTarGzip);
  if (config.os === "" && config.architecture === "" && allGzip) {
    return [...types, "config has empty os and architecture (content without platform)"];
  }
  return undefined;
}
