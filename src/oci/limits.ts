/**
 * Hard limits on untrusted structure, so hostile content fails fast with a
 * clear message instead of exhausting memory or recursion.
 *
 * @module
 */

/** Limits applied while parsing and walking content. */
export const LIMITS = {
  /** Largest manifest or index accepted (the distribution spec's 4 MiB). */
  manifestBytes: 4 * 1024 * 1024,
  /** Largest image config read into memory. */
  configBytes: 8 * 1024 * 1024,
  /** Most layers one manifest may list. */
  layers: 4096,
  /** Most entries one index may list. */
  indexEntries: 4096,
  /** Largest OCI layout index.json (it lists every tag: 100,000 tags are about 20 MiB). */
  layoutIndexBytes: 64 * 1024 * 1024,
  /** Most entries of an OCI layout index.json. */
  layoutIndexEntries: 1_000_000,
  /** Largest `oci-layout` marker file. */
  layoutMarkerBytes: 4096,
  /** Deepest nesting of indexes inside indexes. */
  indexDepth: 4,
  /** Most distinct manifests and blobs one `copy` walks (a hostile index can fan out without end). */
  copyNodes: 10_000,
  /** Most referrers listed for one subject (API pages and the fallback index together). */
  referrers: 4096,
  /** Most pages of a Referrers API answer followed through `Link`. */
  referrersPages: 64,
  /** Deepest `referrers --depth` (referrers of referrers of ...). */
  referrersDepth: 8,
} as const;
