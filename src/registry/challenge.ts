/**
 * Parsing `WWW-Authenticate` headers (RFC 7235): one or more challenges, each
 * a scheme and auth-params whose quoted values may contain commas.
 *
 * @module
 */

/** One authentication challenge. */
export interface Challenge {
  /** Lower-case scheme, e.g. `bearer` or `basic`. */
  scheme: string;
  /** Parameters with lower-case names, e.g. realm, service, scope, error. */
  params: Record<string, string>;
}

/**
 * Parse a WWW-Authenticate header value.
 *
 * @example
 * ```ts
 * import { parseChallenges } from "./challenge.ts";
 * const [c] = parseChallenges(
 *   'Bearer realm="https://auth.io/token",service="reg",scope="repository:a/b:pull,push"',
 * );
 * console.assert(c.scheme === "bearer" && c.params.scope === "repository:a/b:pull,push");
 * ```
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let pos = 0;
  const n = header.length;
  const skipSpace = () => {
    while (pos < n && (header[pos] === " " || header[pos] === "\t")) pos++;
  };
  const token = () => {
    const start = pos;
    while (pos < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[pos])) pos++;
    return header.slice(start, pos);
  };
  while (pos < n) {
    skipSpace();
    while (pos < n && header[pos] === ",") {
      pos++;
      skipSpace();
    }
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skipSpace();
      const save = pos;
      const name = token();
      skipSpace();
      if (!name || header[pos] !== "=") {
        // Not an auth-param: the next challenge's scheme starts here.
        pos = save;
        break;
      }
      pos++; // '='
      skipSpace();
      let value = "";
      if (header[pos] === '"') {
        pos++;
        while (pos < n && header[pos] !== '"') {
          if (header[pos] === "\\" && pos + 1 < n) pos++;
          value += header[pos++];
        }
        pos++; // closing quote
      } else {
        const start = pos;
        while (pos < n && header[pos] !== "," && header[pos] !== " ") pos++;
        value = header.slice(start, pos);
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (header[pos] !== ",") break;
      pos++;
    }
  }
  return challenges;
}
