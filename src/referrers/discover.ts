/**
 * Finding the referrers of a manifest (OCI 1.1 `subject`): the Referrers API
 * `GET /v2/<name>/referrers/<digest>` where the registry has it, else the
 * distribution spec's fallback index under the tag `sha256-<hex>`; in an OCI
 * layout, the index.json entries whose manifest has that `subject`.
 *
 * @module
 */

import { NotFoundError, ParseError } from "../errors.ts";
import { type Digest, digestAlgorithm } from "../oci/digest.ts";
import { LIMITS } from "../oci/limits.ts";
import { OCI } from "../oci/media_types.ts";
import { parseDescriptor, parseJsonObject } from "../oci/parse.ts";
import type { Descriptor } from "../oci/types.ts";
import { OciLayout } from "../layout/oci_layout.ts";
import { readBodyCapped } from "../registry/bounded_body.ts";
import { nextLink, RegistryTarget } from "../registry/registry_target.ts";
import type { Target } from "../target.ts";

/** Where a referrers list came from. */
export type ReferrersSource = "api" | "tag" | "layout";

/** The referrers of one subject. */
export interface ReferrersList {
  /** Descriptors of the referring manifests (with `artifactType` and annotations). */
  referrers: Descriptor[];
  /** Referrers API, fallback tag, or layout index.json. */
  source: ReferrersSource;
}

/**
 * The fallback tag of a subject digest: `sha256:abc…` becomes `sha256-abc…`.
 *
 * @example
 * ```ts
 * import { fallbackTag } from "./discover.ts";
 * console.assert(fallbackTag(`sha256:${"a".repeat(64)}`) === `sha256-${"a".repeat(64)}`);
 * ```
 */
export function fallbackTag(digest: Digest): string {
  return digest.replace(":", "-");
}

/**
 * The referrers of `subject` in `target`, optionally only those of one artifactType.
 *
 * @example
 * ```ts ignore
 * const { referrers } = await listReferrers(target, await target.resolve("v1"));
 * ```
 */
export async function listReferrers(
  target: Target,
  subject: Descriptor,
  artifactType?: string,
): Promise<ReferrersList> {
  let list: ReferrersList;
  if (target instanceof OciLayout) {
    list = { referrers: await layoutReferrers(target, subject.digest), source: "layout" };
  } else if (target instanceof RegistryTarget) {
    const api = await apiReferrers(target, subject.digest, artifactType);
    list = api
      ? { referrers: api, source: "api" }
      : { referrers: await fallbackReferrers(target, subject.digest), source: "tag" };
  } else {
    list = { referrers: await fallbackReferrers(target, subject.digest), source: "tag" };
  }
  // Filtered here too: a registry may ignore the filter (no OCI-Filters-Applied).
  if (artifactType) list.referrers = list.referrers.filter((d) => d.artifactType === artifactType);
  return list;
}

/**
 * The Referrers API answer, all pages; undefined if the registry has no API (404).
 */
export async function apiReferrers(
  target: RegistryTarget,
  digest: Digest,
  artifactType?: string,
): Promise<Descriptor[] | undefined> {
  const scopes = [`repository:${target.repository}:pull`];
  const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
  let url: string | undefined = `/v2/${target.repository}/referrers/${digest}${query}`;
  const referrers: Descriptor[] = [];
  for (let page = 0; url && page < LIMITS.referrersPages; page++) {
    const response: Response = await target.client.send({
      method: "GET",
      url,
      scopes,
      headers: { Accept: OCI.index },
    });
    const what = `referrers of ${digest} in ${target.name}`;
    if (page === 0 && response.status === 404) {
      // Distribution 2.8 answers 404 (no such route); so does a registry
      // without the API. Either way the fallback tag is the place to look.
      await response.body?.cancel();
      return undefined;
    }
    if (response.status !== 200) await target.client.failure(response, what);
    const bytes = await readBodyCapped(response, LIMITS.manifestBytes, what);
    referrers.push(...indexEntries(bytes, what));
    if (referrers.length > LIMITS.referrers) {
      throw new ParseError(`${what}: more than ${LIMITS.referrers} referrers`);
    }
    url = nextLink(response.headers.get("link"), response.url || url);
  }
  if (url) {
    // An endless Link chain is refused rather than listed in part.
    throw new ParseError(
      `referrers of ${digest} in ${target.name}: more than ${LIMITS.referrersPages} pages`,
    );
  }
  return referrers;
}

/** The entries of the fallback index `sha256-<hex>`; none if the tag is missing. */
export async function fallbackReferrers(target: Target, digest: Digest): Promise<Descriptor[]> {
  const index = await readFallbackIndex(target, digest);
  return index?.manifests ?? [];
}

/** The fallback index of a subject and its descriptor, or undefined if there is none. */
export async function readFallbackIndex(
  target: Target,
  digest: Digest,
): Promise<
  | { descriptor: Descriptor; manifests: Descriptor[]; annotations?: Record<string, string> }
  | undefined
> {
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(fallbackTag(digest));
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
  const what = `referrers index ${fallbackTag(digest)} in ${target.name}`;
  const bytes = await target.fetchManifest(descriptor);
  const manifests = indexEntries(bytes, what);
  const doc = parseJsonObject(bytes, what, LIMITS.manifestBytes);
  const annotations = isStringRecord(doc.annotations) ? doc.annotations : undefined;
  return { descriptor, manifests, ...(annotations ? { annotations } : {}) };
}

/** Layout referrers: the index.json entries whose manifest's `subject` is the digest. */
async function layoutReferrers(layout: OciLayout, digest: Digest): Promise<Descriptor[]> {
  const index = await layout.readIndex();
  const seen = new Set<string>();
  const referrers: Descriptor[] = [];
  for (const entry of index.manifests) {
    if (entry.digest === digest || seen.has(entry.digest)) continue;
    seen.add(entry.digest);
    const what = `manifest ${entry.digest} in ${layout.name}`;
    const doc = parseJsonObject(await layout.fetchManifest(entry), what, LIMITS.manifestBytes);
    const subject = doc.subject as { digest?: unknown } | undefined;
    if (!subject || subject.digest !== digest) continue;
    referrers.push(referrerDescriptor(entry, doc));
    if (referrers.length > LIMITS.referrers) {
      throw new ParseError(
        `referrers of ${digest} in ${layout.name}: more than ${LIMITS.referrers}`,
      );
    }
  }
  return referrers;
}

/**
 * The descriptor a referrers index lists for a manifest: artifactType (else
 * the config media type, as the spec says) and the manifest's annotations.
 */
export function referrerDescriptor(
  descriptor: Descriptor,
  doc: Record<string, unknown>,
): Descriptor {
  const entry: Descriptor = {
    mediaType: typeof doc.mediaType === "string" ? doc.mediaType : descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  const config = doc.config as { mediaType?: unknown } | undefined;
  const artifactType = typeof doc.artifactType === "string"
    ? doc.artifactType
    : typeof config?.mediaType === "string"
    ? config.mediaType
    : undefined;
  if (artifactType) entry.artifactType = artifactType;
  if (isStringRecord(doc.annotations)) entry.annotations = doc.annotations;
  return entry;
}

function indexEntries(bytes: Uint8Array, what: string): Descriptor[] {
  const doc = parseJsonObject(bytes, what, LIMITS.manifestBytes);
  if (!Array.isArray(doc.manifests)) throw new ParseError(`${what}: not an index (no manifests)`);
  if (doc.manifests.length > LIMITS.referrers) {
    throw new ParseError(`${what}: more than ${LIMITS.referrers} referrers`);
  }
  return (doc.manifests as unknown[]).map((m, i) => {
    let descriptor: Descriptor;
    try {
      descriptor = parseDescriptor(m, `manifests[${i}]`);
    } catch (e) {
      throw new ParseError(`${what}: an entry is not a valid descriptor (${(e as Error).message})`);
    }
    // Referrers are manifests named by sha256 (their fallback tags are `sha256-<hex>`).
    if (digestAlgorithm(descriptor.digest) !== "sha256") {
      throw new ParseError(`${what}: an entry is not a valid descriptor (not sha256)`);
    }
    return descriptor;
  });
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
}
