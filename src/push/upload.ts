/**
 * Uploading a blob only when the target lacks it.
 *
 * @module
 */

import { DEFAULT_CONCURRENCY, mapConcurrent } from "../concurrency.ts";
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

/** A blob to upload. */
export interface Upload {
  descriptor: Descriptor;
  content: BlobSource | Uint8Array;
}

/**
 * Upload blobs the target lacks, `concurrency` at a time; returns the outcome
 * per digest, in the order given.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { sha256Digest } from "../oci/digest.ts";
 * import { uploadBlobs } from "./upload.ts";
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const bytes = new TextEncoder().encode("{}");
 * const descriptor = { mediaType: "application/json", digest: sha256Digest(bytes), size: 2 };
 * const outcomes = await uploadBlobs(layout, [{ descriptor, content: bytes }]);
 * console.assert(outcomes[descriptor.digest] === "uploaded");
 * ```
 */
export async function uploadBlobs(
  target: Target,
  uploads: readonly Upload[],
  concurrency: number = DEFAULT_CONCURRENCY,
): Promise<Record<string, UploadOutcome>> {
  const outcomes = await mapConcurrent(
    uploads,
    concurrency,
    (upload) => uploadBlob(target, upload.descriptor, upload.content),
  );
  const result: Record<string, UploadOutcome> = {};
  uploads.forEach((upload, i) => result[upload.descriptor.digest] = outcomes[i]);
  return result;
}
