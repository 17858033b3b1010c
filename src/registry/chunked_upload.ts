/**
 * Chunked, resumable blob uploads: PATCH chunks with `Content-Range`, and
 * after a dropped connection or a 5xx mid-PATCH, ask the registry how much
 * it holds (`GET` on the upload URL, `Range: 0-N`) and go on from N+1 in the
 * same session. Each chunk is read again from the source (a staged file is
 * re-readable), so at most one chunk is sent twice per interruption.
 *
 * @module
 */

import { ArtifactError } from "../errors.ts";
import { collectGarbage } from "../gc_hint.ts";
import type { Descriptor } from "../oci/types.ts";
import type { BlobSource } from "../target.ts";
import { backoffMs, isRetryableError, isRetryableStatus } from "./retry.ts";
import type { UploadContext } from "./blob_transfer.ts";

/** Default PATCH chunk size. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
const MIN_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 256 * 1024 * 1024;

/** Attempts used by one blob's upload, shared by resumes and fresh sessions (policy.attempts). */
export interface UploadTries {
  used: number;
}

/** The chunk size from `ARTIFACT_CLI_UPLOAD_CHUNK_BYTES`, bounded; invalid values are an error. */
export function uploadChunkBytes(value = Deno.env.get("ARTIFACT_CLI_UPLOAD_CHUNK_BYTES")): number {
  if (value === undefined || value === "") return DEFAULT_CHUNK_BYTES;
  if (!/^[0-9]{1,12}$/.test(value)) {
    throw new ArtifactError(
      `ARTIFACT_CLI_UPLOAD_CHUNK_BYTES must be a number of bytes, not ${
        JSON.stringify(value.slice(0, 40))
      }`,
    );
  }
  return Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Number(value)));
}

/** The registry refused chunked uploads; the caller falls back to one PUT. */
export class ChunkedRefused extends Error {}

/**
 * Parse a `Range: 0-N` answer strictly: the byte count it reports, or
 * undefined when the header is absent or malformed. `0-0` is what
 * Distribution says for an empty upload, so it counts as 0.
 */
export function parseUploadRange(value: string | null): number | undefined {
  if (value === null) return undefined;
  const match = /^(?:bytes=)?0-([0-9]{1,15})$/.exec(value.trim());
  if (!match) return undefined;
  const end = Number(match[1]);
  return end === 0 ? 0 : end + 1;
}

/**
 * Read `length` bytes at `offset` of the source into `buffer` (a seek for
 * files, else skip from the start). One buffer serves every chunk: a request
 * is over (answered or failed) before the next chunk is read.
 */
async function readChunk(
  source: BlobSource,
  offset: number,
  length: number,
  buffer: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = buffer.subarray(0, length);
  let filled = 0;
  if (source.path) {
    using file = await Deno.open(source.path, { read: true });
    await file.seek(offset, Deno.SeekMode.Start);
    while (filled < length) {
      const n = await file.read(out.subarray(filled));
      if (n === null) break;
      filled += n;
    }
  } else {
    const reader = (await source.open()).getReader();
    let position = 0;
    try {
      while (filled < length) {
        const { done, value } = await reader.read();
        if (done) break;
        const start = Math.max(0, offset - position);
        position += value.byteLength;
        if (start >= value.byteLength) continue;
        const part = value.subarray(start, start + (length - filled));
        out.set(part, filled);
        filled += part.byteLength;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  if (filled !== length) {
    throw new ArtifactError(`the blob source ended at ${offset + filled} of ${source.size} bytes`);
  }
  return out;
}

/**
 * Send the source to the open upload at `url` in chunks; returns the URL to
 * finish with the digest PUT. Throws {@link ChunkedRefused} when the first
 * chunk is refused (405, 501, 416…), a retryable error when a resume is not
 * possible (the caller starts a new session), anything else as is.
 */
export async function sendChunks(
  context: UploadContext,
  descriptor: Descriptor,
  source: BlobSource,
  location: string,
  chunkBytes: number,
  tries: UploadTries,
): Promise<string> {
  const { client, scopes, policy } = context;
  let url = location;
  let offset = 0;
  const buffer = new Uint8Array(Math.min(chunkBytes, source.size));
  while (offset < source.size) {
    const length = Math.min(chunkBytes, source.size - offset);
    const chunk = await readChunk(source, offset, length, buffer);
    let response: Response | undefined;
    let failure: unknown;
    try {
      response = await client.send({
        method: "PATCH",
        url,
        scopes,
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Range": `${offset}-${offset + length - 1}`,
          "Content-Length": String(length),
        },
        body: chunk,
        retry: false,
      });
    } catch (e) {
      if (!(isRetryableError(e) || isRetryableError((e as Error).cause))) throw e;
      failure = e;
    }
    collectGarbage(); // fetch's copy of the chunk is garbage now
    if (response && (response.status === 202 || response.status === 204)) {
      await response.body?.cancel();
      url = new URL(response.headers.get("location") ?? url, url).href;
      offset += length;
      continue;
    }
    if (response && !isRetryableStatus(response.status)) {
      if (offset === 0 && [400, 405, 416, 501].includes(response.status)) {
        await response.body?.cancel();
        throw new ChunkedRefused(`chunked upload refused (${response.status})`);
      }
      await client.failure(response, `upload of ${descriptor.digest}`);
    }
    if (response) {
      failure = await client.failure(response, `upload of ${descriptor.digest}`).catch((e) => e);
    }
    // Resumes spend the same attempts as fresh sessions: a registry failing every time
    // costs policy.attempts PATCHes, not that many per session.
    if (tries.used >= policy.attempts) throw failure;
    const wait = backoffMs(policy, tries.used++, null);
    await policy.sleep(wait);
    const status = await uploadStatus(context, url);
    const held = status?.held;
    // Never trust an offset past what we sent, nor an answer we cannot read: start over.
    if (held === undefined || held > offset + length) {
      throw failure; // retryable: the caller opens a new session
    }
    url = status!.url;
    client.debug(
      `upload of ${descriptor.digest} interrupted at byte ${offset}; the registry holds ${held}, resuming`,
    );
    offset = held;
  }
  return url;
}

/**
 * How many bytes the registry holds for the upload at `url`, if it says so
 * clearly, and the URL to go on with (Distribution's carries the offset in its state).
 */
async function uploadStatus(
  context: UploadContext,
  url: string,
): Promise<{ held: number; url: string } | undefined> {
  let response: Response;
  try {
    response = await context.client.send({ method: "GET", url, scopes: context.scopes });
  } catch {
    return undefined;
  }
  await response.body?.cancel();
  if (response.status !== 204 && response.status !== 200) return undefined;
  const held = parseUploadRange(response.headers.get("range"));
  if (held === undefined) return undefined;
  return { held, url: new URL(response.headers.get("location") ?? url, url).href };
}
