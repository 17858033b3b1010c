/**
 * HTTP to one registry host: scheme choice (HTTPS, plain HTTP for loopback),
 * TLS options, authorisation with re-challenge, retries, manual redirects
 * that never carry credentials to another host, and `--debug` traces that
 * never show a secret.
 *
 * @module
 */

import { NAMED_FILE_LIMITS, readNamedTextFile } from "../fs/named_file.ts";
import { ArtifactError, AuthError, IntegrityError, NotFoundError } from "../errors.ts";
import { Authorizer } from "./auth.ts";
import { parseChallenges } from "./challenge.ts";
import { type ExplicitCredentials, findCredential } from "./credentials.ts";
import { isLoopbackHost, mayAttachCredentials } from "./credential_policy.ts";
import { errorText, redact } from "./redact.ts";
import { requireHttpUrl } from "./url_guard.ts";
import { BODY_LIMITS, readTextCapped } from "./bounded_body.ts";

export { errorText, redact };
import {
  backoffMs,
  defaultRetryPolicy,
  isRetryableError,
  isRetryableStatus,
  RetryableStatusError,
  type RetryPolicy,
  withIdleTimeout,
} from "./retry.ts";

/** How to reach a registry. */
export interface RegistryOptions {
  /** Use HTTP, never HTTPS. */
  plainHttp?: boolean;
  /** Accept any TLS certificate (the CLI re-runs itself under Deno's flag for it). */
  insecure?: boolean;
  /** PEM file of extra CA certificates. */
  caFile?: string;
  /** Explicit credentials (flags). */
  credentials?: ExplicitCredentials;
  /** Receives one line per HTTP request (`--debug`). */
  log?: (line: string) => void;
  /** How transient failures are retried. */
  retry?: RetryPolicy;
}

/** A request to the registry. */
export interface RegistryRequest {
  method: string;
  /** Path below the host (`/v2/...`) or an absolute URL (upload locations). */
  url: string;
  /** Token scopes, e.g. `repository:team/app:pull`. */
  scopes: string[];
  headers?: Record<string, string>;
  /** A body, or a function giving a fresh body for each attempt. */
  body?: BodyInit | (() => Promise<BodyInit>);
  /** Retry transient failures (default true). Off for non-repeatable uploads. */
  retry?: boolean;
}

/** True for hosts that default to plain HTTP: localhost, 127.0.0.0/8, [::1]. */
export function isLoopbackRegistry(registry: string): boolean {
  return isLoopbackHost(registry);
}

/**
 * One registry host. Create it once per host and reuse it for every
 * repository: it caches the scheme, the challenge and tokens.
 */
export class RegistryClient {
  readonly #policy: RetryPolicy;
  readonly #auth: Authorizer;
  #client: Deno.HttpClient | undefined;
  #base: Promise<string> | undefined;

  constructor(readonly registry: string, readonly options: RegistryOptions = {}) {
    this.#policy = options.retry ?? defaultRetryPolicy();
    this.#auth = new Authorizer(
      registry,
      () => findCredential(registry, options.credentials),
      (url, init) => this.#fetch(url, init, true),
      { plainHttp: options.plainHttp },
    );
  }

  /** `https://host` or `http://host`, decided by the first ping. */
  base(): Promise<string> {
    return this.#base ??= this.#ping();
  }

  async #httpClient(): Promise<Deno.HttpClient | undefined> {
    if (this.#client || !this.options.caFile) return this.#client;
    const pem = (await readNamedTextFile(this.options.caFile, {
      source: "--ca-file",
      maxBytes: NAMED_FILE_LIMITS.caFile,
      role: "usage",
    }))!;
    return this.#client = Deno.createHttpClient({ caCerts: [pem] });
  }

  /** Decide the scheme and learn the authentication challenge from `GET /v2/`. */
  async #ping(): Promise<string> {
    // A --ca-file that cannot be read is the user's error, not an unreachable registry.
    await this.#httpClient();
    const candidates = this.options.plainHttp
      ? ["http"]
      : isLoopbackRegistry(this.registry) && !this.options.caFile && !this.options.insecure
      ? ["https", "http"]
      : ["https"];
    let lastError: unknown;
    // A certificate we do not trust is the answer to give, even when the
    // plain-HTTP fallback then meets a TLS port ("400: HTTP request to an HTTPS server").
    let certificateError: unknown;
    for (const scheme of candidates) {
      const base = `${scheme}://${this.registry}`;
      let response: Response;
      try {
        response = await this.#fetch(`${base}/v2/`, { method: "GET" }, candidates.length === 1);
      } catch (e) {
        lastError = e;
        // A TLS server is there but its certificate is not trusted: never fall back to
        // plain HTTP (a port may answer both; credentials would then go in clear text).
        if (isCertificateError(e)) {
          certificateError ??= e;
          break;
        }
        continue;
      }
      await response.body?.cancel();
      if (response.status === 401) {
        this.#auth.setChallenge(parseChallenges(response.headers.get("www-authenticate") ?? "")[0]);
      } else if (response.status === 400 && scheme === "https" && candidates.length > 1) {
        continue; // an HTTP server answering a TLS port is not it; try the next scheme
      } else if (certificateError) {
        break;
      } else if (!answersAsRegistry(response)) {
        const type = response.headers.get("content-type")?.split(";")[0].trim();
        throw new ArtifactError(
          `${this.registry} does not answer as an OCI registry (GET /v2/ gave ${response.status}${
            type ? ` ${type}` : ""
          })`,
        );
      }
      return base;
    }
    if (certificateError) {
      throw new ArtifactError(
        `cannot verify the TLS certificate of ${this.registry}: ${
          certificateProblem(certificateError)
        } (trust its CA with --ca-file FILE, or skip verification with --insecure)`,
        { cause: certificateError },
      );
    }
    throw new ArtifactError(`cannot reach ${this.registry}: ${errorText(lastError)}`, {
      cause: lastError,
    });
  }

  /** Send a request with authorisation, retries and safe redirects. */
  async send(request: RegistryRequest): Promise<Response> {
    const base = await this.base();
    let url = new URL(request.url, base).href;
    let scopes = request.scopes;
    let reauthorised = false;
    let redirects = 0;
    for (let attempt = 1;; attempt++) {
      const headers: Record<string, string> = { ...request.headers };
      // Credentials go only to the registry's own origin, never to a redirect target.
      if (mayAttachCredentials(url, base)) {
        const authorization = await this.#auth.header(scopes, url);
        if (authorization) headers.Authorization = authorization;
      }
      const body = typeof request.body === "function" ? await request.body() : request.body;
      let response: Response;
      try {
        response = await this.#fetch(url, { method: request.method, headers, body }, false);
      } catch (e) {
        if (e instanceof ArtifactError) throw e; // refused by the client itself (a URL scheme)
        if (request.retry !== false && attempt < this.#policy.attempts && isRetryableError(e)) {
          await this.#wait(attempt, null, request.method, url);
          continue;
        }
        throw new ArtifactError(`${request.method} ${redact(url)} failed: ${errorText(e)}`, {
          cause: e,
        });
      }
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        await response.body?.cancel();
        if (++redirects > 5) {
          throw new ArtifactError(`too many redirects for ${redact(request.url)}`);
        }
        url = new URL(response.headers.get("location")!, url).href;
        requireHttpUrl(url, this.registry);
        attempt--;
        continue;
      }
      if (response.status === 401 && !reauthorised && mayAttachCredentials(url, base)) {
        // A first 401 carries the challenge (or a wider scope); ask once more with it.
        reauthorised = true;
        await response.body?.cancel();
        const challenge = parseChallenges(response.headers.get("www-authenticate") ?? "")[0];
        this.#auth.setChallenge(challenge);
        this.#auth.invalidate(scopes);
        const asked = challenge?.params.scope?.split(" ").filter(Boolean) ?? [];
        scopes = [...new Set([...scopes, ...asked])];
        if (challenge) {
          attempt--;
          continue;
        }
        return response;
      }
      if (
        request.retry !== false && isRetryableStatus(response.status) &&
        attempt < this.#policy.attempts
      ) {
        await response.body?.cancel();
        await this.#wait(attempt, response.headers.get("retry-after"), request.method, url);
        continue;
      }
      return response;
    }
  }

  /** Sleep before the next attempt, saying so in the debug trace. */
  async #wait(
    attempt: number,
    retryAfter: string | null,
    method: string,
    url: string,
  ): Promise<void> {
    const ms = backoffMs(this.#policy, attempt, retryAfter);
    this.options.log?.(
      `retry ${attempt + 1}/${this.#policy.attempts} of ${method} ${redact(url)} in ${ms} ms${
        retryAfter === null ? "" : ` (Retry-After: ${retryAfter})`
      }`,
    );
    await this.#policy.sleep(ms);
  }

  /** fetch with TLS options and the debug trace; `retry` retries network errors here. */
  async #fetch(url: string, init: RequestInit, retry: boolean): Promise<Response> {
    // Every request passes here: the one place that refuses file:, data:, blob: and the rest.
    requireHttpUrl(url, this.registry);
    const client = await this.#httpClient();
    for (let attempt = 1;; attempt++) {
      const started = performance.now();
      // A streamed upload is answered only after its whole body: no answer timeout for it.
      const streamed = init.body instanceof ReadableStream;
      const abort = new AbortController();
      try {
        const request = fetch(url, {
          ...init,
          client,
          redirect: "manual",
          signal: abort.signal,
        } as RequestInit);
        const response = streamed ? await request : await withIdleTimeout(
          request,
          this.#policy.idleMs,
          `${init.method ?? "GET"} ${redact(url)}`,
          () => abort.abort(),
        );
        this.options.log?.(
          `${init.method ?? "GET"} ${redact(url)} -> ${response.status} (${
            Math.round(performance.now() - started)
          } ms)`,
        );
        if (retry && isRetryableStatus(response.status) && attempt < this.#policy.attempts) {
          await response.body?.cancel();
          await this.#wait(attempt, response.headers.get("retry-after"), init.method ?? "GET", url);
          continue;
        }
        return response;
      } catch (e) {
        this.options.log?.(`${init.method ?? "GET"} ${redact(url)} -> ${errorText(e)}`);
        if (retry && attempt < this.#policy.attempts && isRetryableError(e)) {
          await this.#wait(attempt, null, init.method ?? "GET", url);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Turn an unexpected response into the right typed error; `what` names the
   * object (e.g. `manifest v1 in host/repo`).
   */
  async failure(response: Response, what: string): Promise<never> {
    const detail = await errorDetail(response);
    // Secrets are scrubbed from the raw text, before whitespace is folded (a tab in a
    // password would otherwise become a space and escape the match).
    detail.message = (await this.#auth.scrub(detail.message))
      // deno-lint-ignore no-control-regex
      .replace(/[\s\x00-\x1f\x7f]+/g, " ").slice(0, 300);
    const codes = detail.codes;
    if (codes.includes("MANIFEST_BLOB_UNKNOWN")) {
      // A manifest PUT naming a blob the repository lacks: the blob is what is missing.
      throw new NotFoundError(`${this.registry} refused ${what}: ${detail.message}`);
    }
    if (codes.some((c) => c.startsWith("BLOB_UPLOAD_"))) {
      throw new ArtifactError(
        `${this.registry} lost the upload session of ${what}: ${detail.message}`,
      );
    }
    if (response.status === 404 || codes.some((c) => /_UNKNOWN$/.test(c))) {
      throw new NotFoundError(`${what} not found`);
    }
    if (response.status === 401) {
      const source = await this.#auth.credentialSource();
      const challenge = parseChallenges(response.headers.get("www-authenticate") ?? "")[0];
      if (source && challenge?.params.error === "insufficient_scope") {
        // The credentials were accepted (a token was issued) but do not grant this.
        const scope = challenge.params.scope;
        throw new AuthError(
          `access to ${scope ? scope.split(" ").join(", ") : what} denied by ${this.registry} ` +
            `for the credentials from ${source}`,
        );
      }
      throw new AuthError(
        source
          ? `authentication failed for ${this.registry} (credentials from ${source})`
          : `authentication required for ${this.registry}: no credentials found (use login or --username)`,
      );
    }
    if (response.status === 403) {
      throw new AuthError(`access to ${what} denied by ${this.registry}`);
    }
    if (codes.includes("DIGEST_INVALID") || codes.includes("SIZE_INVALID")) {
      throw new IntegrityError(`${this.registry} refused ${what}: ${detail.message}`);
    }
    throw new ArtifactError(
      `${this.registry} answered ${response.status} for ${what}${
        detail.message ? `: ${detail.message}` : ""
      }`,
      // Marks a transient answer, so an operation retried as a whole (an upload) tries again.
      isRetryableStatus(response.status)
        ? { cause: new RetryableStatusError(response.status) }
        : undefined,
    );
  }

  /** One line in the `--debug` trace (never a secret: callers pass redacted text). */
  debug(line: string): void {
    this.options.log?.(line);
  }

  /** Release pooled connections. */
  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}

async function errorDetail(response: Response): Promise<{ codes: string[]; message: string }> {
  let text = "";
  try {
    text = await readTextCapped(response, BODY_LIMITS.errorBytes, "an error answer", true);
  } catch { /* no body */ }
  try {
    const errors = JSON.parse(text).errors as {
      code?: string;
      message?: string;
      detail?: unknown;
    }[];
    if (Array.isArray(errors)) {
      // A string detail is usually the digest or name concerned; other shapes are noise.
      const describe = (e: (typeof errors)[number]) =>
        [e.message ?? e.code, typeof e.detail === "string" ? `(${e.detail})` : ""]
          .filter(Boolean).join(" ");
      return {
        codes: errors.map((e) => String(e.code ?? "")),
        message: errors.map(describe).filter(Boolean).join("; ").slice(0, 4096),
      };
    }
  } catch { /* not JSON */ }
  return { codes: [], message: "" };
}

/**
 * `GET /v2/` of a registry answers 200 (anonymous access) or 401 (a
 * challenge). A web page (an HTML 200, a 404) means the port is something else.
 */
function answersAsRegistry(response: Response): boolean {
  if (response.status === 401) return true;
  if (response.status !== 200) return false;
  const type = response.headers.get("content-type") ?? "";
  return !/^text\/html/i.test(type) || response.headers.has("docker-distribution-api-version");
}

/** A TLS failure caused by the peer's certificate (untrusted issuer, wrong name, expired). */
function isCertificateError(error: unknown): boolean {
  return /certificate|UnknownIssuer|NotValidForName|Expired/i.test(errorText(error));
}

/** The certificate part of a TLS error, without the request wrapping around it. */
function certificateProblem(error: unknown): string {
  const text = errorText(error);
  return /(?:invalid peer )?certificate.*$/i.exec(text)?.[0] ?? text;
}
