/**
 * Opening the {@link Target} a reference names.
 *
 * @module
 */

import { ArtifactError } from "./errors.ts";
import { OciLayout } from "./layout/oci_layout.ts";
import { formatReference, type Reference } from "./reference.ts";
import type { Target } from "./target.ts";

/** Options for {@link openTarget}. */
export interface OpenTargetOptions {
  /** The target will be written to (a layout is created if missing). */
  write?: boolean;
}

/**
 * The target for a reference.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * import { openTarget } from "./targets.ts";
 * const dir = await Deno.makeTempDir();
 * const target = await openTarget(parseReference(`oci:${dir}`), { write: true });
 * console.assert(target.name === `oci:${dir}`);
 * ```
 */
export async function openTarget(ref: Reference, options: OpenTargetOptions = {}): Promise<Target> {
  if (ref.kind === "layout") return await OciLayout.open(ref.path, { create: options.write });
  throw new ArtifactError(
    `registry references are not supported yet (${formatReference(ref)}); use an oci:PATH layout`,
  );
}

/** The tag or digest to resolve for a reference (digest wins). */
export function tagOrDigestOf(ref: Reference): string | undefined {
  return ref.digest ?? ref.tag;
}
