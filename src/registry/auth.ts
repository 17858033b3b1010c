/**
 * Authorisation for one registry: basic credentials, or bearer tokens from
 * the challenge's realm, cached per scope set. Secrets stay inside this
 * module: nothing here logs or returns them in messages.
 *
 * @module
 */

import { ArtifactError, AuthError } from "../errors.ts";
import type { Challenge } from "./challenge.ts";
import type { Credential } from "./credentials.ts";
import { requireSecureChannel } from "./credential_policy.ts";
import { errorText, secretForms } from "./redact.ts";
import { BODY_LIMITS, readTextCapped } from "./bounded_body.ts";

/** Options for {@link Authorizer}. */
export interface AuthorizerOptions {
  /**
   * The user asked for plain HTTP (`--plain-http`): secrets may then go in
   * clear text to non-loopback hosts too.
   */
  plainHttp?: boolean;
}

/** Performs the HTTP request for a token (the client supplies retries and TLS). */
export type TokenFetch = (url: string, init: RequestInit) => Promise<Response>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Produces Authorization header values for requests to one registry.
 *
 * @example
 * ```ts
 * import { Authorizer } from "./auth.ts";
 * const auth = new Authorizer("localhost:5000", async () => undefined, fetch);
 * console.assert((await auth.header(["repository:a:pull"], "http://localhost:5000/v2/")) === undefined);
 * ```
 */
export class Authorizer {
  #challenge: Challenge | undefined;
  #credential: Promise<Credential | undefined> | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  /** Every token received, expired or not, for {@link Authorizer.scrub}. */
  readonly #issued = new Set<string>();

  constructor(
    readonly registry: string,
    readonly loadCredential: () => Promise<Credential | undefined>,
    readonly fetchToken: TokenFetch,
    readonly options: AuthorizerOptions = {},
  ) {}

  /** Record the challenge of a 401 answer (from the ping or any request). */
  setChallenge(challenge: Challenge | undefined): void {
    if (challenge) this.#challenge = challenge;
  }

  /** The scheme the registry asked for, if any. */
  get scheme(): string | undefined {
    return this.#challenge?.scheme;
  }

  #credentialOnce(): Promise<Credential | undefined> {
    return this.#credential ??= this.loadCredential();
  }

  /** Where the credentials come from, for messages; never the secret. */
  async credentialSource(): Promise<string | undefined> {
    return (await this.#credentialOnce())?.source;
  }

  /**
   * The Authorization header for a request to `url` (on the registry) with
   * `scopes`, or undefined for anonymous access. Throws an AuthError rather
   * than send a secret in clear text to a host that is not loopback, unless
   * plain HTTP was asked for.
   */
  async header(scopes: string[], url: string): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") {
      const credential = await this.#credentialOnce();
      if (!credential?.username || credential.password === undefined) return undefined;
      requireSecureChannel(url, !!this.options.plainHttp, `credentials for ${this.registry}`);
      return `Basic ${base64(`${credential.username}:${credential.password}`)}`;
    }
    if (challenge.scheme === "bearer") {
      const token = await this.#token(scopes);
      requireSecureChannel(url, !!this.options.plainHttp, `a token for ${this.registry}`);
      return `Bearer ${token}`;
    }
    throw new AuthError(
      `${this.registry} asks for unsupported authentication "${challenge.scheme}"`,
    );
  }

  /**
   * `text` (e.g. a registry's error message) with every secret this
   * authorizer knows replaced, so a registry that echoes a credential back
   * cannot make us print it.
   */
  async scrub(text: string): Promise<string> {
    const credential = this.#credential ? await this.#credential.catch(() => undefined) : undefined;
    const secrets = [
      credential?.password,
      credential?.identityToken,
      credential?.username && credential.password !== undefined
        ? base64(`${credential.username}:${credential.password}`)
        : undefined,
      ...this.#issued,
    ].filter((s): s is string => typeof s === "string" && s.length >= 4)
      // As they may be echoed: raw, URL-encoded, form-encoded, base64 forms.
      .flatMap((s) => secretForms(s));
    if (credential?.username && credential.password !== undefined) {
      secrets.push(...secretForms(base64(`${credential.username}:${credential.password}`)));
      secrets.push(base64Url(`${credential.username}:${credential.password}`));
    }
    for (const secret of [...new Set(secrets)].sort((a, b) => b.length - a.length)) {
      text = text.replaceAll(secret, "[REDACTED]");
    }
    return text;
  }

  /** Forget cached tokens for `scopes` (after a 401 that says they are not enough). */
  invalidate(scopes: string[]): void {
    this.#tokens.delete(scopeKey(scopes));
  }

  async #token(scopes: string[]): Promise<string> {
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const challenge = this.#challenge!;
    const realm = challenge.params.realm;
    if (!realm) throw new AuthError(`${this.registry} sent a bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new AuthError(`${this.registry} sent an invalid token realm`);
    }
    const credential = await this.#credentialOnce();
    if (credential) {
      // The realm is named by the registry; it must not get the user's secret in clear text.
      requireSecureChannel(
        url,
        !!this.options.plainHttp,
        `credentials for ${this.registry} to its token service`,
      );
    }
    try {
      return await this.#requestToken(url, scopes, key, credential);
    } catch (e) {
      if (e instanceof ArtifactError) throw e;
      // A network failure after the client's retries: say which service, not the secret.
      throw new ArtifactError(
        `cannot reach the token service for ${this.registry}: ${errorText(e)}`,
        { cause: e },
      );
    }
  }

  async #requestToken(
    url: URL,
    scopes: string[],
    key: string,
    credential: Credential | undefined,
  ): Promise<string> {
    const service = this.#challenge!.params.service;
    let response: Response;
    if (credential?.identityToken) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.identityToken,
        client_id: "artifact-cli",
      });
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      response = await this.fetchToken(url.href, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
    } else {
      if (service) url.searchParams.set("service", service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      const headers: Record<string, string> = {};
      if (credential?.username && credential.password !== undefined) {
        headers.Authorization = `Basic ${base64(`${credential.username}:${credential.password}`)}`;
        url.searchParams.set("account", credential.username);
      }
      response = await this.fetchToken(url.href, { method: "GET", headers });
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new AuthError(
        credential
          ? `authentication failed for ${this.registry} (credentials from ${credential.source})`
          : `authentication required for ${this.registry}: no credentials found (use login or --username)`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new AuthError(`token service for ${this.registry} answered ${response.status}`);
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    const text = await readTextCapped(
      response,
      BODY_LIMITS.tokenBytes,
      `the token answer of ${this.registry}`,
    );
    try {
      body = JSON.parse(text);
    } catch {
      throw new AuthError(`token service for ${this.registry} sent an invalid answer`);
    }
    const token = body.token ?? body.access_token;
    if (typeof token !== "string" || !token) {
      throw new AuthError(`token service for ${this.registry} sent no token`);
    }
    // A token that cannot go into a header would make fetch fail with an error
    // quoting the header, token included; refuse it here without showing it.
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new AuthError(`token service for ${this.registry} sent a malformed token`);
    }
    // Refresh a little early; tokens without expiry last 60 s per the spec.
    const lifetime = (typeof body.expires_in === "number" ? body.expires_in : 60) * 1000;
    this.#issued.add(token);
    this.#tokens.set(key, { token, expiresAt: Date.now() + Math.max(0, lifetime - 10_000) });
    return token;
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(" ");
}

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function base64Url(text: string): string {
  return base64(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
