/**
 * The one retry policy for registry requests: which failures are transient,
 * how long to wait (exponential backoff with jitter, or the server's
 * Retry-After), and when to give up.
 *
 * @module
 */

/** Tunables of the retry policy. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  /** First backoff in ms; doubles per attempt. */
  baseMs: number;
  /** Longest single wait in ms (Retry-After included). */
  maxWaitMs: number;
  /** Injected for tests. */
  sleep: (ms: number) => Promise<void>;
  /** Injected for tests: a number in [0, 1). */
  random: () => number;
  /**
   * How long a request may wait for an answer, or a download for its next
   * bytes, before it counts as a dropped connection (and is retried).
   */
  idleMs: number;
  /**
   * A floor on a download's average rate: fewer than `bytesPerSecond` over a
   * window of `windowMs` fails it (a trickle must not keep a pull alive).
   * Undefined: no floor.
   */
  minRate?: { bytesPerSecond: number; windowMs: number };
}

/**
 * The default policy: 5 attempts, 250 ms doubling, at most 20 s per wait.
 * `ARTIFACT_CLI_RETRY_BASE_MS` shortens the waits (the fault-injection tests
 * use it).
 */
export function defaultRetryPolicy(): RetryPolicy {
  const base = Number(Deno.env.get("ARTIFACT_CLI_RETRY_BASE_MS") ?? "");
  return {
    attempts: 5,
    baseMs: Number.isFinite(base) && base >= 0 && Deno.env.has("ARTIFACT_CLI_RETRY_BASE_MS")
      ? base
      : 250,
    maxWaitMs: 20_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    idleMs: positiveNumber(Deno.env.get("ARTIFACT_CLI_IDLE_TIMEOUT_MS")) ?? 60_000,
    minRate: parseMinRate(Deno.env.get("ARTIFACT_CLI_MIN_RATE")),
  };
}

/**
 * `ARTIFACT_CLI_MIN_RATE=BYTES/SECONDS`: at least BYTES per second on
 * average over each window of SECONDS; `0` turns the floor off. Default
 * (unset or invalid): 1024 bytes/s over 60 s.
 */
export function parseMinRate(
  text: string | undefined,
): { bytesPerSecond: number; windowMs: number } | undefined {
  if (text === "0") return undefined;
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(text ?? "");
  if (match && Number(match[1]) > 0 && Number(match[2]) > 0) {
    return { bytesPerSecond: Number(match[1]), windowMs: Number(match[2]) * 1000 };
  }
  return { bytesPerSecond: 1024, windowMs: 60_000 };
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text ?? "");
  return text && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Settle like `promise`, or reject with Deno.errors.TimedOut (a retryable
 * error) after `ms`, then call `onTimeout` so the caller can cancel the
 * stalled operation.
 */
export function withIdleTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => void,
): Promise<T> {
  let timer: number | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Reject before cancelling: the cancelled operation settles too, and must not win the race.
      reject(new Deno.errors.TimedOut(`${what}: nothing received for ${ms / 1000} s`));
      onTimeout();
    }, ms) as unknown as number;
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** HTTP statuses worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 ||
    status === 504;
}

/**
 * The cause attached to an error made from a transient HTTP answer (429,
 * 5xx), so callers that retry whole operations (uploads) recognise it.
 */
export class RetryableStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = "RetryableStatusError";
  }
}

/**
 * Whether a thrown error is a transient network failure (reset, refused,
 * timeout) rather than a bug or a TLS problem, which no retry fixes.
 */
export function isRetryableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RetryableStatusError) return true;
  if (error.name === "AbortError") return false;
  const text = `${error.name} ${error.message} ${(error.cause as Error)?.message ?? ""}`;
  if (
    /certificate|UnknownIssuer|InvalidCertificate|tls handshake|NotValidForName/i.test(text) ||
    /invalid header|ByteString/i.test(text)
  ) {
    return false;
  }
  return error instanceof TypeError || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.TimedOut || /reset|connection|eof|broken pipe/i.test(text);
}

/**
 * Milliseconds to wait before attempt `attempt + 1` (attempt counts from 1),
 * honouring a Retry-After header (seconds or an HTTP date) when given.
 *
 * @example
 * ```ts
 * import { backoffMs, defaultRetryPolicy } from "./retry.ts";
 * const policy = { ...defaultRetryPolicy(), random: () => 0.5 };
 * console.assert(backoffMs(policy, 1, "3") === 3000);
 * console.assert(backoffMs(policy, 2, null) === policy.baseMs * 2);
 * ```
 */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter: string | null): number {
  const fromHeader = parseRetryAfter(retryAfter);
  if (fromHeader !== undefined) return Math.min(fromHeader, policy.maxWaitMs);
  const exponential = policy.baseMs * 2 ** (attempt - 1);
  // Full jitter around the exponential value: 50% to 150%.
  const jittered = exponential * (0.5 + policy.random());
  return Math.min(Math.round(jittered), policy.maxWaitMs);
}

/** Retry-After as milliseconds from now, or undefined when absent or invalid. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}
