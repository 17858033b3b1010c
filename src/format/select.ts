/**
 * Choosing the image manifest to pull from what a reference points at
 * (DESIGN.md, "Pull: platform selection"):
 *
 * - without `--platform`: a single manifest (artifact-cli's own push, an
 *   imgpkg image or bundle, any other image or artifact) is pulled as it is;
 *   an index or manifest list gives the entry for linux/<host architecture>;
 * - with `--platform`: the matching index entry. A single manifest is pulled
 *   when its config has no platform (artifact-cli and imgpkg content, OCI
 *   artifacts) or the same one; a single image for another platform is not
 *   found (exit 3), as oras does — pulling it would hand over the wrong
 *   binaries without a word.
 *
 * Attestation manifests (`unknown/unknown`, `vnd.docker.reference.type:
 * attestation-manifest`) are never chosen. When several entries match (a
 * Garden Linux index has one per cloud flavour for each architecture, told
 * apart only by annotations), the first is taken, as docker, podman and
 * crane do, and the others are reported in `ambiguity` so that pull can
 * warn and `describe` can list them.
 *
 * @module
 */

import { ArtifactError, NotFoundError, ParseError } from "../errors.ts";
import {
  defaultPlatform,
  formatPlatform,
  type Platform,
  platformMatches,
} from "../oci/platform.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { LIMITS } from "../oci/limits.ts";
import { type DetectedFormat, isAttestationEntry, platformList } from "./detect.ts";
import { inspect, type Inspected } from "./inspect.ts";
import { chartFileName } from "./helm.ts";

import {
  formatSelector,
  selectEntries,
  type Selector,
  selectorMatches,
} from "./select_annotations.ts";

export { isAttestationEntry, REFERENCE_TYPE_ANNOTATION } from "./detect.ts";

/** The manifest chosen for a pull, and how it was reached. */
export interface SelectedManifest {
  /** The chosen manifest's descriptor. */
  descriptor: Descriptor;
  /** The chosen manifest. */
  manifest: ImageManifest;
  /** Exact bytes of the manifest. */
  bytes: Uint8Array;
  /** The image config, when the manifest's config is one. */
  config?: ImageConfig;
  /** What the chosen manifest is. */
  format: DetectedFormat;
  /** Set when the chosen manifest's config is not a valid image config (pull warns once). */
  configWarning?: string;
  /** The platform of the index entry that was followed, if any. */
  platform?: Platform;
  /** The index the manifest was chosen from (the outermost), if any. */
  index?: { descriptor: Descriptor; format: DetectedFormat };
  /** Why this manifest was chosen, for `describe` and `--debug`. */
  reason: string;
  /**
   * Set when several index entries match the platform: the one taken (the
   * first) and the others. Null when the choice was unambiguous.
   */
  ambiguity: { chosen: Descriptor; others: Descriptor[] } | null;
}

/**
 * Follow `descriptor` to a single image manifest (see the module doc for the
 * rules). `platform` is the user's explicit choice, if any.
 *
 * @example
 * ```ts ignore
 * const selected = await selectManifest(target, await target.resolve("v1"));
 * console.log(selected.format.label, selected.reason);
 * ```
 */
export async function selectManifest(
  target: Target,
  descriptor: Descriptor,
  platform?: Platform,
  selector?: Selector,
): Promise<SelectedManifest> {
  return await selectFrom(target, await inspect(target, descriptor), platform, 0, selector);
}

/** {@link selectManifest} for a manifest or index already fetched. */
export async function selectFrom(
  target: Target,
  inspected: Inspected,
  platform?: Platform,
  depth = 0,
  selector?: Selector,
): Promise<SelectedManifest> {
  const { descriptor, bytes, parsed, config, format } = inspected;
  const selecting = selector !== undefined && Object.keys(selector).length > 0 && depth === 0;
  if (parsed.kind === "manifest") {
    if (platform && depth === 0) checkSinglePlatform(config, platform, target.name);
    if (selecting && !selectorMatches(selector, parsed.manifest.annotations)) {
      throw new NotFoundError(
        `${target.name} is a single manifest whose annotations do not match --select ${
          formatSelector(selector)
        }`,
      );
    }
    const selected: SelectedManifest = {
      descriptor,
      manifest: parsed.manifest,
      bytes,
      config,
      format,
      reason: singleReason(format),
      ambiguity: null,
    };
    if (inspected.configWarning) selected.configWarning = inspected.configWarning;
    return selected;
  }
  if (depth >= LIMITS.indexDepth) {
    throw new ParseError(
      `indexes nested deeper than ${LIMITS.indexDepth} levels (the limit); refusing to follow ${descriptor.digest}`,
    );
  }
  const wanted = platform ?? defaultPlatform();
  const [entry, ...others] = selecting
    ? await selectEntries(target, parsed.index, selector, platform, target.name)
    : matchingEntries(parsed.index, wanted, target.name);
  // A flavour chosen by annotations keeps its own platform below (arm64 on an amd64 host).
  const below = selecting && !platform ? entry.platform ?? wanted : wanted;
  const inner = await selectFrom(target, await inspect(target, entry), below, depth + 1);
  const how = selecting
    ? `index entry matching --select ${formatSelector(selector)}${
      entry.platform ? ` (${formatPlatform(entry.platform)})` : ""
    }`
    : entry.platform
    ? `index entry for ${formatPlatform(entry.platform)}, matching ${formatPlatform(wanted)}${
      platform ? " (--platform)" : " (host default)"
    }`
    : "the index's only entry (it names no platform)";
  return {
    ...inner,
    platform: inner.platform ?? entry.platform,
    index: { descriptor, format },
    reason: depth === 0 ? `${format.label}: ${how}` : how,
    ambiguity: others.length ? { chosen: entry, others } : inner.ambiguity,
  };
}

/**
 * The index entry matching `wanted`, never an attestation. An index whose
 * only entry names no platform gives that entry. NotFoundError listing the
 * platforms present otherwise.
 *
 * @example
 * ```ts
 * import { selectIndexEntry } from "./select.ts";
 * const entry = {
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest: `sha256:${"0".repeat(64)}` as const,
 *   size: 1,
 *   platform: { os: "linux", architecture: "arm64" },
 * };
 * const chosen = selectIndexEntry(
 *   { schemaVersion: 2, manifests: [entry] },
 *   { os: "linux", architecture: "arm64" },
 *   "ghcr.io/team/app:v1",
 * );
 * console.assert(chosen === entry);
 * ```
 */
export function selectIndexEntry(index: ImageIndex, wanted: Platform, where: string): Descriptor {
  return matchingEntries(index, wanted, where)[0];
}

/**
 * Every index entry matching `wanted`, in index order (never attestations);
 * at least one, else NotFoundError listing the platforms present.
 */
export function matchingEntries(index: ImageIndex, wanted: Platform, where: string): Descriptor[] {
  const candidates = index.manifests.filter((m) => !isAttestationEntry(m));
  const matches = candidates.filter((m) => m.platform && platformMatches(wanted, m.platform));
  if (matches.length) return matches;
  if (candidates.length === 1 && !candidates[0].platform) return candidates;
  const skipped = index.manifests.length - candidates.length;
  throw new NotFoundError(
    `no manifest for platform ${formatPlatform(wanted)} in ${where}; available: ${
      platformList(candidates) || "none"
    }${
      skipped ? ` (and ${skipped} attestation manifest${skipped > 1 ? "s" : ""}, never pulled)` : ""
    }`,
  );
}

/**
 * Short labels telling index entries apart: the digest, plus the annotations
 * whose values differ between them (at most two, e.g. Garden Linux's
 * `cname`).
 *
 * @example
 * ```ts
 * import { entryLabels } from "./select.ts";
 * const d = (hex: string, cname: string) => ({
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   digest: `sha256:${hex.repeat(64)}` as const, size: 1, annotations: { cname },
 * });
 * const [a] = entryLabels([d("a", "aws-amd64"), d("b", "azure-amd64")]);
 * console.assert(a === "sha256:aaaaaaaaaaaa (cname=aws-amd64)");
 * ```
 */
export function entryLabels(entries: Descriptor[]): string[] {
  const keys = new Set(entries.flatMap((e) => Object.keys(e.annotations ?? {})));
  const differing = [...keys].filter((key) =>
    new Set(entries.map((e) => e.annotations?.[key])).size > 1
  ).slice(0, 2);
  return entries.map((e) => {
    const parts = differing.filter((k) => e.annotations?.[k] !== undefined)
      .map((k) => `${k}=${e.annotations![k]}`);
    const short = e.digest.slice(0, e.digest.indexOf(":") + 13);
    return parts.length ? `${short} (${parts.join(", ")})` : short;
  });
}

function checkSinglePlatform(
  config: ImageConfig | undefined,
  wanted: Platform,
  where: string,
): void {
  if (!config?.os || !config.architecture) return; // content without a platform fits any
  const own: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) own.variant = config.variant;
  if (platformMatches(wanted, own)) return;
  throw new NotFoundError(
    `no manifest for platform ${formatPlatform(wanted)} in ${where}; available: ${
      formatPlatform(own)
    } (a single image, not an index)`,
  );
}

/** What pull does with a Helm chart: the file it writes, or that it refuses the chart. */
function helmReason(format: DetectedFormat): string {
  try {
    if (!format.chart) throw new ParseError(format.chartProblem ?? "no chart");
    return `${format.label}: pulled as ${chartFileName(format.chart)}, as helm pull writes it`;
  } catch (e) {
    if (!(e instanceof ArtifactError)) throw e;
    return `${format.label}: a single manifest, which pull refuses (see its layers)`;
  }
}

function singleReason(format: DetectedFormat): string {
  switch (format.kind) {
    case "artifact-cli":
      return `${format.label}: a single manifest, pulled as it is`;
    case "imgpkg-image":
    case "imgpkg-bundle":
      return `${format.label} (a single Docker v2 manifest, no index): pulled as it is`;
    case "helm-chart":
      return helmReason(format);
    default:
      return `a single manifest (${format.label}): pulled as it is`;
  }
}
