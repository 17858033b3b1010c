/**
 * Text about requests that is safe to print: URLs without secret query
 * values or user info, and error messages with every URL in them redacted.
 *
 * @module
 */

/**
 * A URL without query values that could be secret (tokens and signatures in
 * redirect URLs) and without user info.
 *
 * @example
 * ```ts
 * import { redact } from "./redact.ts";
 * console.assert(
 *   redact("https://cdn.example/b?X-Amz-Signature=abc&n=1") ===
 *     "https://cdn.example/b?X-Amz-Signature=REDACTED&n=1",
 * );
 * ```
 */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    for (const key of [...parsed.searchParams.keys()]) {
      if (/token|signature|sig|key|password|secret|credential|auth/i.test(key)) {
        parsed.searchParams.set(key, "REDACTED");
      }
    }
    if (parsed.username || parsed.password) {
      parsed.username = "";
      parsed.password = "";
    }
    return parsed.href;
  } catch {
    return url;
  }
}

/**
 * An error's message (and its cause's) on one line, with every URL in it
 * redacted (fetch errors quote the URL, which may carry a signed query) and
 * rejected header values hidden.
 */
export function errorText(error: unknown): string {
  const text = !(error instanceof Error)
    ? String(error)
    : `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}`;
  return hideHeaderValues(text).replace(/\s*\n\s*/g, " ")
    .replace(/https?:\/\/[^\s)"'<>]+/g, (url) => redact(url));
}

/** Deno quotes a rejected header value in its error, and that may be a credential. */
function hideHeaderValues(text: string): string {
  return text.replace(/(invalid header value)\s*:?[\s\S]*$/i, "$1 (not shown)");
}

/**
 * The forms in which a secret may come back in a registry's text: as it is,
 * URL-encoded (encodeURIComponent and form encoding), and base64 without
 * padding (a prefix match covers padded and unpadded forms).
 */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  forms.add(encodeURI(secret));
  // base64 of the secret itself (standard and URL alphabets, padded or not).
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(secret)));
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ""));
  forms.add(b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  return [...forms].filter((f) => f.length >= 4);
}
