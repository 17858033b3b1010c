/**
 * `--select KEY=VALUE`: choosing index entries by annotations, for indexes
 * whose entries share a platform and differ only in what they are (a Garden
 * Linux release has one entry per cloud flavour: `cname`, `feature_set`).
 * Every pair must match, first against the index entry's annotations, and
 * for a key the entry does not carry, against the manifest's own. With a
 * selector the host-platform default does not apply: an arm64 flavour can be
 * chosen on amd64 unless `--platform` is given too.
 *
 * @module
 */

import { NotFoundError, UsageError } from "../errors.ts";
import { LIMITS } from "../oci/limits.ts";
import { parseManifest } from "../oci/parse.ts";
import { formatPlatform, type Platform, platformMatches } from "../oci/platform.ts";
import type { Descriptor, ImageIndex } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { isAttestationEntry } from "./detect.ts";

/** Annotation values every chosen entry must have. */
export type Selector = Readonly<Record<string, string>>;

/** Most values of a key listed in a "no match" error. */
const LISTED_VALUES = 20;

/**
 * Parse repeated `KEY=VALUE` strings (the value may be empty or hold `=`).
 *
 * @example
 * ```ts
 * import { parseSelector } from "./select_annotations.ts";
 * console.assert(parseSelector(["cname=aws-amd64"]).cname === "aws-amd64");
 * ```
 */
export function parseSelector(values: readonly string[], flag = "--select"): Selector {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`${flag} ${JSON.stringify(value)}: expected KEY=VALUE`);
    }
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

/** The selector as `k=v, k2=v2`, for messages. */
export function formatSelector(selector: Selector): string {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(", ");
}

/** Whether `annotations` satisfy every pair of `selector`. */
export function selectorMatches(
  selector: Selector,
  annotations: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.entries(selector).every(([k, v]) => annotations?.[k] === v);
}

/**
 * The entries of `index` (never attestations) whose annotations — the
 * entry's, then its manifest's for keys the entry lacks — satisfy
 * `selector`, restricted to `platform` when given. At least one, else
 * NotFoundError listing the values of each key that exist.
 */
export async function selectEntries(
  target: Target,
  index: ImageIndex,
  selector: Selector,
  platform: Platform | undefined,
  where: string,
): Promise<Descriptor[]> {
  const candidates = index.manifests.filter((m) =>
    !isAttestationEntry(m) &&
    (!platform || (m.platform !== undefined && platformMatches(platform, m.platform)))
  );
  const seen = new Map<string, Set<string>>(Object.keys(selector).map((k) => [k, new Set()]));
  const chosen: Descriptor[] = [];
  for (const entry of candidates) {
    const merged = await annotationsOf(target, entry, Object.keys(selector));
    for (const [key, values] of seen) {
      if (merged[key] !== undefined) values.add(merged[key]);
    }
    if (selectorMatches(selector, merged)) chosen.push(entry);
  }
  if (chosen.length) return chosen;
  const known = [...seen].map(([key, values]) => {
    const list = [...values].slice(0, LISTED_VALUES).join(", ");
    const more = values.size > LISTED_VALUES ? `, … (${values.size} in all)` : "";
    return `${key}: ${values.size ? `${list}${more}` : "none"}`;
  }).join("; ");
  throw new NotFoundError(
    `no entry of ${where} matches --select ${formatSelector(selector)}${
      platform ? ` for platform ${formatPlatform(platform)}` : ""
    }; values present: ${known}`,
  );
}

/**
 * The entry's annotations, completed from its manifest for the keys the
 * entry does not carry (fetched only then).
 */
async function annotationsOf(
  target: Target,
  entry: Descriptor,
  keys: readonly string[],
): Promise<Record<string, string>> {
  const own = { ...entry.annotations };
  if (keys.every((k) => own[k] !== undefined)) return own;
  if (entry.size > LIMITS.manifestBytes) return own;
  const parsed = parseManifest(await target.fetchManifest(entry), entry.mediaType);
  const inner = parsed.kind === "index" ? parsed.index.annotations : parsed.manifest.annotations;
  return { ...inner, ...own };
}
