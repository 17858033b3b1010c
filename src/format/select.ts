/**
 * Choosing the image manifest to pull from what a reference points at.
 *
 * @module
 */

import { NotFoundError, ParseError } from "../errors.ts";
import { parseManifest } from "../oci/parse.ts";
import {
  defaultPlatform,
  formatPlatform,
  isUnknownPlatform,
  type Platform,
  platformMatches,
} from "../oci/platform.ts";
import type { Descriptor, ImageIndex, ImageManifest } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { LIMITS } from "../oci/limits.ts";

/** Annotation buildx puts on attestation manifests in an index. */
export const REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";

/** The manifest chosen for a pull, and how it was reached. */
export interface SelectedManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** Exact bytes of the manifest. */
  bytes: Uint8Array;
  /** The platform of the index entry that was followed, if any. */
  platform?: Platform;
  /** Why this manifest was chosen, for `describe` and `--debug`. */
  reason: string;
}

/** True for index entries that are not runnable images (attestations). */
export function isAttestationEntry(entry: Descriptor): boolean {
  return entry.annotations?.[REFERENCE_TYPE_ANNOTATION] === "attestation-manifest" ||
    isUnknownPlatform(entry.platform);
}

/**
 * Follow `descriptor` to a single image manifest: a manifest is taken as it
 * is; an index is resolved to the entry for `platform` (default
 * linux/<host architecture>), never an attestation.
 */
export async function selectManifest(
  target: Target,
  descriptor: Descriptor,
  platform?: Platform,
  depth = 0,
): Promise<SelectedManifest> {
  const bytes = await target.fetchManifest(descriptor);
  const parsed = parseManifest(bytes, descriptor.mediaType);
  if (parsed.kind === "manifest") {
    return {
      descriptor,
      manifest: parsed.manifest,
      bytes,
      reason: "the reference is a single manifest",
    };
  }
  if (depth >= LIMITS.indexDepth) {
    throw new ParseError(
      `indexes nested deeper than ${LIMITS.indexDepth} levels (the limit); refusing to follow ${descriptor.digest}`,
    );
  }
  const wanted = platform ?? defaultPlatform();
  const entry = selectIndexEntry(parsed.index, wanted, target.name);
  const selected = await selectManifest(target, entry, wanted, depth + 1);
  return {
    ...selected,
    platform: entry.platform,
    reason: `index entry for ${formatPlatform(wanted)}${platform ? "" : " (host default)"}`,
  };
}

/** The index entry matching `wanted`; NotFoundError listing what exists otherwise. */
export function selectIndexEntry(index: ImageIndex, wanted: Platform, where: string): Descriptor {
  const candidates = index.manifests.filter((m) => !isAttestationEntry(m));
  const match = candidates.find((m) => m.platform && platformMatches(wanted, m.platform));
  if (match) return match;
  const available = candidates.filter((m) => m.platform).map((m) => formatPlatform(m.platform!));
  throw new NotFoundError(
    `no manifest for platform ${formatPlatform(wanted)} in ${where}; available: ${
      available.length ? available.join(", ") : "none"
    }`,
  );
}
