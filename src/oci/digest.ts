/**
 * Content digests: syntax checks, computing sha256, and verifying streamed
 * content against a descriptor.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { observeBytes } from "../byte_streams.ts";
import { IntegrityError, ParseError } from "../errors.ts";

/** A digest string such as `sha256:2c26b4...`. */
export type Digest = `${string}:${string}`;

const DIGEST_SYNTAX = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ENCODED_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/**
 * Check a digest string and return it typed. Registered algorithms (sha256,
 * sha512) must be lower-case hex of the right length, as the image spec says.
 *
 * @example
 * ```ts
 * import { parseDigest } from "./digest.ts";
 * parseDigest("sha256:" + "a".repeat(64));
 * ```
 */
export function parseDigest(value: string, path = "digest"): Digest {
  if (!DIGEST_SYNTAX.test(value)) {
    throw new ParseError(`invalid digest ${JSON.stringify(truncate(value))}`, path);
  }
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  const expected = ENCODED_LENGTH[algorithm];
  if (expected !== undefined && (encoded.length !== expected || !/^[a-f0-9]+$/.test(encoded))) {
    throw new ParseError(
      `invalid ${algorithm} digest ${
        JSON.stringify(truncate(value))
      }: expected ${expected} lower-case hex characters`,
      path,
    );
  }
  return value as Digest;
}

/**
 * True when `value` is a syntactically valid digest.
 *
 * @example
 * ```ts
 * import { isDigest } from "./digest.ts";
 * console.assert(isDigest(`sha256:${"0".repeat(64)}`) && !isDigest("sha256:xyz"));
 * ```
 */
export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The hex part of a digest.
 *
 * @example
 * ```ts
 * import { digestHex } from "./digest.ts";
 * console.assert(digestHex(`sha256:${"0".repeat(64)}`) === "0".repeat(64));
 * ```
 */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(":") + 1);
}

/**
 * The algorithm part of a digest.
 *
 * @example
 * ```ts
 * import { digestAlgorithm } from "./digest.ts";
 * console.assert(digestAlgorithm(`sha256:${"0".repeat(64)}`) === "sha256");
 * ```
 */
export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(":"));
}

/**
 * The sha256 digest of some bytes.
 *
 * @example
 * ```ts
 * import { sha256Digest } from "./digest.ts";
 * console.assert(sha256Digest(new Uint8Array()) ===
 *   "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A hash object for a digest's algorithm; only sha256 and sha512 are supported.
 *
 * @example
 * ```ts
 * import { hasherFor, sha256Digest } from "./digest.ts";
 * const digest = sha256Digest(new Uint8Array([1]));
 * const hex = hasherFor(digest).update(new Uint8Array([1])).digest("hex");
 * console.assert(`sha256:${hex}` === digest);
 * ```
 */
export function hasherFor(digest: Digest): Hash {
  const algorithm = digestAlgorithm(digest);
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new IntegrityError(`unsupported digest algorithm ${algorithm} (${digest})`);
  }
  return createHash(algorithm);
}

/**
 * Checks bytes against an expected digest and size while they stream past.
 * Call `update` per chunk (it throws as soon as the size is exceeded) and
 * `finish` at the end.
 *
 * @example
 * ```ts
 * import { DigestVerifier, sha256Digest } from "./digest.ts";
 * const data = new TextEncoder().encode("hi");
 * const v = new DigestVerifier(sha256Digest(data), data.length, "blob");
 * v.update(data);
 * v.finish();
 * ```
 */
export class DigestVerifier {
  #hash: Hash;
  #seen = 0;
  /** Checks bytes against `digest` and `size`; `what` names the content in errors. */
  constructor(readonly digest: Digest, readonly size: number, readonly what: string = digest) {
    this.#hash = hasherFor(digest);
  }

  /** Bytes seen so far. */
  get seen(): number {
    return this.#seen;
  }

  /** Feed a chunk; throws IntegrityError once more bytes than `size` arrive. */
  update(chunk: Uint8Array): void {
    this.#seen += chunk.byteLength;
    if (this.#seen > this.size) {
      throw new IntegrityError(`${this.what}: more than the expected ${this.size} bytes`);
    }
    this.#hash.update(chunk);
  }

  /** Throws IntegrityError unless exactly `size` bytes with the right digest were seen. */
  finish(): void {
    if (this.#seen !== this.size) {
      throw new IntegrityError(
        `${this.what}: expected ${this.size} bytes, got ${this.#seen} (truncated)`,
      );
    }
    const actual = `${digestAlgorithm(this.digest)}:${this.#hash.digest("hex")}`;
    if (actual !== this.digest) {
      throw new IntegrityError(
        `${this.what}: digest mismatch: expected ${this.digest}, got ${actual}`,
      );
    }
  }
}

/**
 * Wrap a byte stream so that it errors with IntegrityError unless its content
 * matches `digest` and `size` exactly. The end of the stream is only
 * signalled after the check passes, so a consumer never sees a clean end of
 * unverified content. Byte streams stay byte streams (see observeBytes):
 * verifying costs no copy.
 *
 * @example
 * ```ts
 * import { sha256Digest, verifyStream } from "./digest.ts";
 * const data = new TextEncoder().encode("hi");
 * const checked = verifyStream(ReadableStream.from([data]), sha256Digest(data), 2);
 * console.assert((await Array.fromAsync(checked)).length === 1);
 * ```
 */
export function verifyStream(
  source: ReadableStream<Uint8Array>,
  digest: Digest,
  size: number,
  what: string = digest,
): ReadableStream<Uint8Array> {
  const verifier = new DigestVerifier(digest, size, what);
  return observeBytes(source, {
    chunk: (view) => verifier.update(view),
    end: () => verifier.finish(),
  });
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
