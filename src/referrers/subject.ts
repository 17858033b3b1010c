/**
 * `push --subject REF`: which manifest the pushed one refers to. The subject
 * must live where the push goes (a referrer points at a manifest of its own
 * repository or layout; the spec has no cross-repository subjects).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { Descriptor } from "../oci/types.ts";
import { parseReference, type Reference } from "../reference.ts";
import type { Target } from "../target.ts";
import { tagOrDigestOf } from "../targets.ts";

const DIGEST = /^@?(sha256:[0-9a-f]{64})$/;

/**
 * The descriptor of the subject named by `text`: a digest (`sha256:…` or
 * `@sha256:…`) in the push target, or a full reference to the same place.
 *
 * @example
 * ```ts ignore
 * const subject = await resolveSubject(pushRef, "localhost:5000/app:v1", target);
 * ```
 */
export async function resolveSubject(
  pushRef: Reference,
  text: string,
  target: Target,
): Promise<Descriptor> {
  const digest = DIGEST.exec(text)?.[1];
  let reference: string | undefined = digest;
  if (!digest) {
    const ref = parseReference(text);
    if (!sameLocation(pushRef, ref)) {
      throw new UsageError(
        `--subject ${JSON.stringify(text)} is not in the repository pushed to; ` +
          "a referrer and its subject share a repository (or layout)",
      );
    }
    reference = tagOrDigestOf(ref);
  }
  const { mediaType, digest: d, size } = await target.resolve(reference);
  return { mediaType, digest: d, size };
}

function sameLocation(a: Reference, b: Reference): boolean {
  if (a.kind === "layout" && b.kind === "layout") return a.path === b.path;
  if (a.kind === "registry" && b.kind === "registry") {
    return a.registry === b.registry && a.repository === b.repository;
  }
  return false;
}
