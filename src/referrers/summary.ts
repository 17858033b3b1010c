/**
 * `describe`'s referrers line: how many manifests refer to the described one, by type.
 *
 * @module
 */

import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { listReferrers } from "./discover.ts";

/**
 * The number of referrers of `subject` and the count per artifactType
 * (`(none)` for referrers without one).
 *
 * @example
 * ```ts ignore
 * const { count, types } = await referrersSummary(target, await target.resolve("v1"));
 * ```
 */
export async function referrersSummary(
  target: Target,
  subject: Descriptor,
): Promise<{ count: number; types: Record<string, number> }> {
  const { referrers } = await listReferrers(target, subject);
  const types: Record<string, number> = {};
  for (const r of referrers) {
    const type = r.artifactType ?? "(none)";
    types[type] = (types[type] ?? 0) + 1;
  }
  return { count: referrers.length, types };
}
