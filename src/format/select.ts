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
 * attestation-manifest`) are never chosen.
 *
 * @module
 */

import { NotFoundError, ParseError } from "../errors.ts";
import {
  defaultPlatform,
  formatPlatform,
  type Platform,
  platformMatches,
} from "../oci/platform.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { LIMITS } from "../oci/limits.ts";
import { type DetectedFormat, isAttestationEntry } from "./detect.ts";
import { inspect, type Inspected } from "./inspect.ts";

export { isAttestationEntry, REFERENCE_TYPE_ANNOTATION } from "./detect.ts";

/** The manifest chosen for a pull, and how it was reached. */
export interface SelectedManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** Exact bytes of the manifest. */
  bytes: Uint8Array;
  /** The image config, when the manifest's config is one. */
  config?: ImageConfig;
  /** What the chosen manifest is. */
  format: DetectedFormat;
  /** The platform of the index entry that was followed, if any. */
  platform?: Platform;
  /** The index the manifest was chosen from (the outermost), if any. */
  index?: { descriptor: Descriptor; format: DetectedFormat };
  /** Why this manifest was chosen, for `describe` and `--debug`. */
  reason: string;
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
): Promise<SelectedManifest> {
  return await selectFrom(target, await inspect(target, descriptor), platform);
}

/** {@link selectManifest} for a manifest or index already fetched. */
export async function selectFrom(
  target: Target,
  inspected: Inspected,
  platform?: Platform,
  depth = 0,
): Promise<SelectedManifest> {
  const { descriptor, bytes, parsed, config, format } = inspected;
  if (parsed.kind === "manifest") {
    if (platform && depth === 0) checkSinglePlatform(config, platform, target.name);
    return {
      descriptor,
      manifest: parsed.manifest,
      bytes,
      config,
      format,
      reason: singleReason(format),
    };
  }
  if (depth >= LIMITS.indexDepth) {
    throw new ParseError(
      `indexes nested deeper than ${LIMITS.indexDepth} levels (the limit); refusing to follow ${descriptor.digest}`,
    );
  }
  const wanted = platform ?? defaultPlatform();
  const entry = selectIndexEntry(parsed.index, wanted, target.name);
  const inner = await selectFrom(target, await inspect(target, entry), wanted, depth + 1);
  const how = entry.platform
    ? `index entry for ${formatPlatform(entry.platform)}, matching ${formatPlatform(wanted)}${
      platform ? " (--platform)" : " (host default)"
    }`
    : "the index's only entry (it names no platform)";
  return {
    ...inner,
    platform: inner.platform ?? entry.platform,
    index: { descriptor, format },
    reason: depth === 0 ? `${format.label}: ${how}` : how,
  };
}

/**
 * The index entry matching `wanted`, never an attestation. An index whose
 * only entry names no platform gives that entry. NotFoundError listing the
 * platforms present otherwise.
 */
export function selectIndexEntry(index: ImageIndex, wanted: Platform, where: string): Descriptor {
  const candidates = index.manifests.filter((m) => !isAttestationEntry(m));
  const match = candidates.find((m) => m.platform && platformMatches(wanted, m.platform));
  if (match) return match;
  if (candidates.length === 1 && !candidates[0].platform) return candidates[0];
  const available = candidates.filter((m) => m.platform).map((m) => formatPlatform(m.platform!));
  const skipped = index.manifests.length - candidates.length;
  throw new NotFoundError(
    `no manifest for platform ${formatPlatform(wanted)} in ${where}; available: ${
      available.length ? available.join(", ") : "none"
    }${
      skipped ? ` (and ${skipped} attestation manifest${skipped > 1 ? "s" : ""}, never pulled)` : ""
    }`,
  );
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

function singleReason(format: DetectedFormat): string {
  switch (format.kind) {
    case "artifact-cli":
      return `${format.label}: a single manifest, pulled as it is`;
    case "imgpkg-image":
    case "imgpkg-bundle":
      return `${format.label} (a single Docker v2 manifest, no index): pulled as it is`;
    default:
      return `a single manifest (${format.label}): pulled as it is`;
  }
}
