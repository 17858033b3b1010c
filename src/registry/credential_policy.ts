/**
 * Where credentials may go. Two rules, kept in one place so the client and
 * the authoriser cannot disagree:
 *
 * - credentials for a registry go only to that registry's origin (scheme,
 *   host and port): never to a redirect target on another host or port, and
 *   never down from HTTPS to HTTP on the same host;
 * - a secret (basic credentials, a refresh token, a bearer token) travels in
 *   clear text only to a loopback address, or when the user asked for plain
 *   HTTP explicitly (`--plain-http`).
 *
 * @module
 */

import { AuthError } from "../errors.ts";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * True for hosts that default to plain HTTP: localhost, 127.0.0.0/8, [::1]
 * (with or without a port).
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./credential_policy.ts";
 * console.assert(isLoopbackHost("127.0.0.1:5000") && !isLoopbackHost("registry.example.com"));
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * Whether credentials that belong to the registry at `registryBase` may be
 * attached to a request for `url`: only when both have the same origin.
 *
 * @example
 * ```ts
 * import { mayAttachCredentials } from "./credential_policy.ts";
 * console.assert(mayAttachCredentials("https://r.io/v2/x", "https://r.io"));
 * console.assert(!mayAttachCredentials("http://r.io/v2/x", "https://r.io"));
 * console.assert(!mayAttachCredentials("https://cdn.r.io/blob", "https://r.io"));
 * ```
 */
export function mayAttachCredentials(url: string | URL, registryBase: string | URL): boolean {
  return new URL(url).origin === new URL(registryBase).origin;
}

/**
 * Whether a secret may be sent to `url`: always over HTTPS; over plain HTTP
 * only to a loopback host, or when `plainHttp` was asked for explicitly.
 *
 * @example
 * ```ts
 * import { maySendSecret } from "./credential_policy.ts";
 * console.assert(maySendSecret("https://auth.example.com/token", false));
 * console.assert(maySendSecret("http://127.0.0.1:5000/v2/", false));
 * console.assert(!maySendSecret("http://auth.example.com/token", false));
 * console.assert(maySendSecret("http://auth.example.com/token", true));
 * ```
 */
export function maySendSecret(url: string | URL, plainHttp: boolean): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === "https:") return true;
  return parsed.protocol === "http:" && (plainHttp || isLoopbackHost(parsed.host));
}

/**
 * Throw an {@link AuthError} unless {@link maySendSecret} allows sending
 * `what` (e.g. "credentials for r.io") to `url`. The message names the
 * origin only, never the secret.
 */
export function requireSecureChannel(url: string | URL, plainHttp: boolean, what: string): void {
  if (maySendSecret(url, plainHttp)) return;
  const origin = new URL(url).origin;
  throw new AuthError(
    `refusing to send ${what} over plain HTTP to ${origin} (not a loopback address); ` +
      `use HTTPS, or --plain-http to allow it`,
  );
}
