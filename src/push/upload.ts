/**
 * Uploading a blob only when the target lacks it.
 *
 * @module
 */

import type { Descriptor } from "../oci/types.ts";
import { type BlobSource, bytesSource, type Target } from "../target.ts";

/** Whether a blob was sent or was already there. */
export type UploadOutcome = "uploaded" | "skipped";

/**
 * Push a blob unless `target` already has it.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { sha256Digest } from "../oci/digest.ts";
 * import { uploadBlob } from "./upload.ts";
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const bytes = new TextEncoder().encode("{}");
 * const desc = { mediaType: "application/json", digest: sha256Digest(bytes), size: 2 };
 * console.assert(await uploadBlob(layout, desc, bytes) === "uploaded");
 * console.assert(await uploadBlob(layout, desc, bytes) === "skipped");
 * ```
 */
export async function uploadBlob(
  target: Target,
  descriptor: Descriptor,
  content: BlobSource | Uint8Array,
): Promise<UploadOutcome> {
  if (await target.exists(descriptor)) return "skipped";
  const source = content instanceof Uint8Array ? bytesSource(content) : content;
  await target.pushBlob(descriptor, source);
  return "uploaded";
}
