/**
 * Making a pushed referrer findable. A registry with the Referrers API indexes
 * `subject` itself; on one without it (Distribution 2.8) the fallback index
 * under the tag `sha256-<hex of subject>` is read, merged and put back, as
 * oras-go does, and re-read to detect a concurrent writer (retried).
 *
 * @module
 */

import { ArtifactError } from "../errors.ts";
import { OCI } from "../oci/media_types.ts";
import type { Descriptor } from "../oci/types.ts";
import { OciLayout } from "../layout/oci_layout.ts";
import { RegistryTarget } from "../registry/registry_target.ts";
import { sha256Digest } from "../oci/digest.ts";
import type { Target } from "../target.ts";
import { apiReferrers, fallbackTag, readFallbackIndex } from "./discover.ts";

/** How many times a fallback update is retried after losing a race. */
export const FALLBACK_ATTEMPTS = 5;

/** How a referrer was made findable. */
export type AttachedVia = "api" | "tag" | "layout";

/**
 * Record `referrer` (already pushed, with `subject` set) as a referrer of `subject`.
 *
 * @example
 * ```ts ignore
 * await attachReferrer(target, subjectDescriptor, referrerDescriptor);
 * ```
 */
export async function attachReferrer(
  target: Target,
  subject: Descriptor,
  referrer: Descriptor,
): Promise<AttachedVia> {
  // A layout's index.json entry (written by the push) is what finds it there.
  if (target instanceof OciLayout) return "layout";
  if (
    target instanceof RegistryTarget && await apiReferrers(target, subject.digest) !== undefined
  ) {
    return "api";
  }
  for (let attempt = 1; attempt <= FALLBACK_ATTEMPTS; attempt++) {
    const current = await readFallbackIndex(target, subject.digest);
    const manifests = current?.manifests ?? [];
    if (manifests.some((m) => m.digest === referrer.digest)) return "tag";
    const index = {
      schemaVersion: 2,
      mediaType: OCI.index,
      manifests: [...manifests, referrer],
      ...(current?.annotations ? { annotations: current.annotations } : {}),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(index));
    const descriptor = {
      mediaType: OCI.index,
      digest: sha256Digest(bytes),
      size: bytes.byteLength,
    };
    await target.pushManifest(descriptor, bytes, fallbackTag(subject.digest));
    // Another writer may have put its own index between our read and put:
    // re-read, and merge again if our entry was lost.
    const after = await readFallbackIndex(target, subject.digest);
    if (after?.manifests.some((m) => m.digest === referrer.digest)) return "tag";
  }
  throw new ArtifactError(
    `could not update the referrers index ${fallbackTag(subject.digest)} in ${target.name}: ` +
      `other writers changed it ${FALLBACK_ATTEMPTS} times in a row`,
  );
}
