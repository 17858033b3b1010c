/**
 * `copy --referrers`: after the subject, every manifest that refers to it
 * (and, to `LIMITS.referrersDepth` levels, what refers to those) is copied
 * with its own digest and recorded at the destination the way the
 * destination finds referrers (its Referrers API, the fallback tag, or the
 * layout's index.json).
 *
 * @module
 */

import { ParseError } from "../errors.ts";
import { LIMITS } from "../oci/limits.ts";
import { parseJsonObject } from "../oci/parse.ts";
import type { Descriptor } from "../oci/types.ts";
import { copyGraph, type CopyOptions } from "../copy/copy.ts";
import type { Target } from "../target.ts";
import { attachReferrer } from "./attach.ts";
import { listReferrers, referrerDescriptor } from "./discover.ts";

/**
 * Copy the referrers graph of `subject` from `source` to `destination`;
 * returns the referrers copied, in walk order.
 *
 * @example
 * ```ts ignore
 * const copied = await copyReferrers(from, subject, to, { concurrency: 4 });
 * ```
 */
export async function copyReferrers(
  source: Target,
  subject: Descriptor,
  destination: Target,
  options: CopyOptions = {},
): Promise<Descriptor[]> {
  const copied: Descriptor[] = [];
  const seen = new Set<string>([subject.digest]);
  let level: Descriptor[] = [subject];
  for (let depth = 0; depth < LIMITS.referrersDepth && level.length; depth++) {
    const next: Descriptor[] = [];
    for (const of of level) {
      for (const found of (await listReferrers(source, of)).referrers) {
        if (seen.has(found.digest)) continue;
        seen.add(found.digest);
        if (seen.size > LIMITS.referrers) {
          throw new ParseError(`more than ${LIMITS.referrers} referrers below ${subject.digest}`);
        }
        const result = await copyGraph(source, found.digest, destination, undefined, options);
        const doc = parseJsonObject(
          await source.fetchManifest(result.descriptor),
          `referrer ${found.digest}`,
          LIMITS.manifestBytes,
        );
        const entry = referrerDescriptor(result.descriptor, doc);
        await attachReferrer(destination, of, entry);
        copied.push(entry);
        next.push(entry);
      }
    }
    level = next;
  }
  return copied;
}
