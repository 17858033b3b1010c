/**
 * The one way a response body is read into memory: with a cap on the
 * decoded bytes, counted as they stream (fetch inflates
 * `Content-Encoding: gzip` itself, so Content-Length says nothing).
 *
 * @module
 */

import { ParseError } from "../errors.ts";

/** Caps for the bodies the client reads into memory. */
export const BODY_LIMITS = {
  /** Error answers: truncated beyond this. */
  errorBytes: 8 * 1024,
  /** Token service answers. */
  tokenBytes: 64 * 1024,
  /** One page of a tag list. */
  tagPageBytes: 4 * 1024 * 1024,
} as const;

/**
 * The body of `response`, at most `limit` decoded bytes. Over it: with
 * `truncate`, the first `limit` bytes (the rest is cancelled); otherwise a
 * ParseError naming `what`.
 */
export async function readBodyCapped(
  response: Response,
  limit: number,
  what: string,
  truncate = false,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(limit);
  let total = 0;
  if (!response.body) return out.subarray(0, 0);
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > limit) {
        if (!truncate) throw new ParseError(`${what} is over the ${limit}-byte limit`);
        out.set(value.subarray(0, limit - total), total);
        total = limit;
        break;
      }
      out.set(value, total);
      total += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return out.subarray(0, total);
}

/** {@link readBodyCapped} as text (invalid UTF-8 replaced). */
export async function readTextCapped(
  response: Response,
  limit: number,
  what: string,
  truncate = false,
): Promise<string> {
  return new TextDecoder().decode(await readBodyCapped(response, limit, what, truncate));
}
