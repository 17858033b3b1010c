/**
 * Moving blob bytes: downloads that resume with `Range` after a dropped
 * connection, and uploads (mount, monolithic PUT, or streamed PATCH + PUT).
 *
 * @module
 */

import { byobReader } from "../byte_streams.ts";
import { ArtifactError, IntegrityError } from "../errors.ts";
import type { Descriptor } from "../oci/types.ts";
import { type BlobSource, readAll } from "../target.ts";
import type { RegistryClient } from "./client.ts";
import {
  ChunkedRefused,
  sendChunks,
  uploadChunkBytes,
  type UploadTries,
} from "./chunked_upload.ts";
import { errorText } from "./redact.ts";
import { backoffMs, isRetryableError, type RetryPolicy, withIdleTimeout } from "./retry.ts";

/** Blobs up to this size are uploaded in one PUT; larger ones are streamed. */
export const MONOLITHIC_UPLOAD_LIMIT = 1024 * 1024;

/**
 * A body that survives dropped connections: when reading fails part-way,
 * `refetch(offset)` asks for the rest (a `Range` request) and reading goes
 * on. A server that ignores Range (200) is read from the start and the bytes
 * already delivered are skipped.
 *
 * It is a byte stream read through one reused buffer: a BYOB consumer (the
 * pull path) gets the bytes copied straight into its own buffer, so a
 * multi-GiB download allocates nothing per chunk.
 */
export function resumableBody(
  first: Response,
  refetch: (offset: number) => Promise<Response>,
  policy: RetryPolicy,
  log?: (line: string) => void,
): ReadableStream<Uint8Array> {
  let body = bodyReader(first);
  let scratch: Uint8Array<ArrayBuffer> | undefined;
  let delivered = 0;
  let skip = 0;
  let failures = 0;
  // The average-rate floor, checked per window (resumes included: time is what counts).
  let windowStart = performance.now();
  let windowBytes = 0;
  const checkRate = (bytes: number) => {
    const floor = policy.minRate;
    if (!floor) return;
    windowBytes += bytes;
    const elapsed = performance.now() - windowStart;
    if (elapsed < floor.windowMs) return;
    if (windowBytes < floor.bytesPerSecond * elapsed / 1000) {
      throw new ArtifactError(
        `download too slow: ${windowBytes} bytes in ${
          Math.round(elapsed / 1000)
        } s at byte ${delivered}, ` +
          `under the floor of ${floor.bytesPerSecond} bytes/s (ARTIFACT_CLI_MIN_RATE)`,
      );
    }
    windowStart = performance.now();
    windowBytes = 0;
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 1024 * 1024,
    async pull(controller) {
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          // A connection that stays open but sends nothing counts as dropped.
          const current = body;
          const stalled = () => void (current.byob ?? current.reader!).cancel().catch(() => {});
          if (body.byob) {
            if (!scratch || scratch.byteLength < view.byteLength) {
              scratch = new Uint8Array(view.byteLength);
            }
            result = await withIdleTimeout(
              body.byob.read(scratch.subarray(0, view.byteLength)),
              policy.idleMs,
              `download at byte ${delivered}`,
              stalled,
            );
            // The read took the buffer over; keep using it through the new view.
            if (result.value) scratch = new Uint8Array(result.value.buffer as ArrayBuffer);
          } else {
            result = await withIdleTimeout(
              body.reader!.read(),
              policy.idleMs,
              `download at byte ${delivered}`,
              stalled,
            );
          }
        } catch (e) {
          scratch = undefined; // a failed BYOB read keeps its buffer
          if (!isRetryableError(e)) throw e;
          if (++failures >= policy.attempts) {
            throw new ArtifactError(
              `download dropped ${failures} times (last at byte ${delivered}): ${errorText(e)}`,
              { cause: e },
            );
          }
          const wait = backoffMs(policy, failures, null);
          log?.(
            `download dropped after ${delivered} bytes; resuming in ${wait} ms (${errorText(e)})`,
          );
          await policy.sleep(wait);
          const response = await refetch(delivered);
          if (response.status === 206) {
            skip = 0;
          } else if (response.status === 200) {
            skip = delivered;
          } else {
            await response.body?.cancel();
            throw new ArtifactError(
              `resuming a download failed: the registry answered ${response.status}`,
            );
          }
          body = bodyReader(response);
          continue;
        }
        if (!result.done) checkRate(result.value.byteLength);
        if (result.done) {
          controller.close();
          request.respond(0);
          return;
        }
        let chunk = result.value;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.byteLength);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
          if (chunk.byteLength === 0) continue;
        }
        delivered += chunk.byteLength;
        if (chunk.byteLength <= view.byteLength) {
          view.set(chunk);
          request.respond(chunk.byteLength);
        } else {
          controller.enqueue(chunk.slice()); // a default reader's chunk larger than the request
        }
        return;
      }
    },
    cancel(reason) {
      return (body.byob ?? body.reader!).cancel(reason);
    },
  });
}

/** A BYOB reader of a response body when it is a byte stream, else a default reader. */
function bodyReader(
  response: Response,
): { byob?: ReadableStreamBYOBReader; reader?: ReadableStreamDefaultReader<Uint8Array> } {
  const byob = byobReader(response.body!);
  return byob ? { byob } : { reader: response.body!.getReader() };
}

/** Where an upload goes and how to reach it. */
export interface UploadContext {
  client: RegistryClient;
  repository: string;
  /** Scopes for the repository being pushed to. */
  scopes: string[];
  policy: RetryPolicy;
}

/**
 * Try to mount `descriptor` from each of `sources` (other repositories of the
 * same registry). Returns "mounted", or the upload URL the registry opened
 * instead (so the caller can upload there), or undefined when no mount was
 * attempted.
 */
export async function tryMount(
  context: UploadContext,
  descriptor: Descriptor,
  sources: string[],
): Promise<"mounted" | string | undefined> {
  let location: string | undefined;
  for (const from of sources.slice(0, 3)) {
    const query = new URLSearchParams({ mount: descriptor.digest, from });
    const response = await context.client.send({
      method: "POST",
      url: `/v2/${context.repository}/blobs/uploads/?${query}`,
      scopes: [...context.scopes, `repository:${from}:pull`],
      headers: { "Content-Length": "0" },
    });
    await response.body?.cancel();
    if (response.status === 201) return "mounted";
    if (response.status === 202 && response.headers.has("location")) {
      location ??= new URL(response.headers.get("location")!, await context.client.base()).href;
      // The registry opened an ordinary upload; one is enough.
      break;
    }
  }
  return location;
}

/**
 * Upload a blob: monolithic PUT when small, else PATCH chunks that resume
 * after an interruption (see chunked_upload.ts); a registry refusing chunks
 * gets the whole blob streamed in one PUT. A failure that cannot resume
 * restarts the whole upload (bounded by the policy), reopening the source. `location` is an upload the registry already opened.
 */
export async function uploadBlob(
  context: UploadContext,
  descriptor: Descriptor,
  source: BlobSource,
  location?: string,
): Promise<void> {
  const { client, repository, scopes, policy } = context;
  let refused = false;
  const tries: UploadTries = { used: 1 };
  for (;; tries.used++) {
    try {
      let url = location ?? await startUpload(context);
      location = undefined;
      if (source.size <= MONOLITHIC_UPLOAD_LIMIT) {
        const bytes = await readAll(await source.open());
        await finishUpload(context, descriptor, url, bytes);
        return;
      }
      if (!refused) {
        try {
          url = await sendChunks(context, descriptor, source, url, uploadChunkBytes(), tries);
        } catch (e) {
          if (!(e instanceof ChunkedRefused)) throw e;
          // A registry without chunked uploads gets the whole blob in one PUT, in a new session.
          client.debug(`${e.message}; sending ${descriptor.digest} in one PUT`);
          refused = true;
          url = await startUpload(context);
        }
      }
      if (refused) {
        await finishUpload(context, descriptor, url, await source.open(), source.size);
        return;
      }
      await finishUpload(context, descriptor, url);
      return;
    } catch (e) {
      // Transient failures (dropped connections, 429/5xx answers) restart the whole upload
      // from a fresh session; the abandoned session is left for the registry to expire.
      if (
        tries.used >= policy.attempts ||
        !(isRetryableError(e) || isRetryableError((e as Error).cause))
      ) {
        throw e;
      }
      const wait = backoffMs(policy, tries.used, null);
      client.debug(
        `upload of ${descriptor.digest} failed (${(e as Error).message}); restarting in ${wait} ms`,
      );
      await policy.sleep(wait);
    }
  }

  async function startUpload(ctx: UploadContext): Promise<string> {
    const response = await ctx.client.send({
      method: "POST",
      url: `/v2/${repository}/blobs/uploads/`,
      scopes,
      headers: { "Content-Length": "0" },
    });
    const where = response.headers.get("location");
    if (response.status !== 202 || !where) {
      await ctx.client.failure(response, `upload to ${repository}`);
    }
    await response.body?.cancel();
    return new URL(where!, await ctx.client.base()).href;
  }
}

async function finishUpload(
  context: UploadContext,
  descriptor: Descriptor,
  location: string,
  bytes?: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  size?: number,
): Promise<void> {
  const url = new URL(location);
  url.searchParams.set("digest", descriptor.digest);
  const response = await context.client.send({
    method: "PUT",
    url: url.href,
    scopes: context.scopes,
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(size ?? (bytes as Uint8Array | undefined)?.byteLength ?? 0),
    },
    body: bytes ?? new Uint8Array(0),
    retry: false,
  });
  if (response.status !== 201 && response.status !== 204) {
    await context.client.failure(response, `blob ${descriptor.digest}`);
  }
  await response.body?.cancel();
  const stored = response.headers.get("docker-content-digest");
  if (stored && stored !== descriptor.digest) {
    throw new IntegrityError(`the registry stored ${stored} instead of ${descriptor.digest}`);
  }
}
