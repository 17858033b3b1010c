/**
 * Path globs with .gitignore-like rules, used by `--exclude` and by `sync`
 * include/exclude filters:
 *
 * - `*` matches within one path segment, `**` across segments, `?` one
 *   character, `[abc]` / `[!abc]` / `[a-z]` a character class;
 * - a pattern without `/` matches the base name at any depth (`*.log`);
 * - a pattern with `/` is anchored at the root (`docs/*.md`, `/build`); a
 *   leading `/` or `./` is dropped;
 * - `**` then `/` matches zero or more whole segments (`a/**` + `/z` matches
 *   `a/z`);
 * - a trailing `/` matches directories only;
 * - a `[` without a later `]` is a literal `[`, and `\` is always a literal.
 *
 * Sync applies these globs to names from an untrusted artifact, so matching
 * never backtracks: the glob is compiled to a token list and matched by
 * simulating its automaton over the set of token positions reached: at most
 * 2 × (name length + 1) × (2 × tokens + 1) steps whatever the input.
 *
 * A glob that cannot mean anything is a {@link UsageError} (exit 2): longer
 * than {@link MAX_GLOB_LENGTH} characters, a reversed range (`[z-a]`), or an
 * empty class (`[]…]`, `[!]`, `[^]` — a class cannot hold `]`). A `[!…]`
 * class matches any character not listed, `/` included, as it always has.
 *
 * Characters are code points: `?` matches one emoji. `**` matches every
 * character, line breaks included.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { escapeControl } from "../ui/escape.ts";

/** Longest glob accepted, in UTF-16 code units. */
export const MAX_GLOB_LENGTH = 4096;

/** Work counter for {@link Glob.matches}: `steps` grows by the states visited. */
export interface MatchStats {
  steps: number;
}

/** A compiled glob. */
export interface Glob {
  readonly pattern: string;
  /**
   * Test a root-relative POSIX path; `isDir` enables directory-only patterns.
   * `stats.steps`, when given, is increased by the work done.
   */
  matches(path: string, isDir: boolean, stats?: MatchStats): boolean;
}

const CHAR = 0; // one given character
const ONE = 1; // `?`: one character except `/`
const CLASS = 2; // `[...]`: one character in (or not in) the ranges
const STAR = 3; // `*`: any run without `/`
const ANY = 4; // `**`: any run
const SEGMENTS = 5; // `**/`: nothing, or any run ending in `/`

interface Token {
  kind: number;
  /** Code point of a CHAR. */
  char?: number;
  /** Sorted, disjoint, inclusive code point ranges of a CLASS. */
  ranges?: number[];
  negated?: boolean;
}

const SLASH = 0x2f;

/**
 * Compile a glob; throws {@link UsageError} naming it when it is invalid.
 *
 * @example
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * console.assert(compileGlob("*.log").matches("a/b/c.log", false));
 * console.assert(!compileGlob("/build").matches("src/build", true));
 * console.assert(compileGlob("docs/**").matches("docs/a/b.md", false));
 * const stats = { steps: 0 };
 * compileGlob("*a".repeat(24) + "*b").matches("a".repeat(120), false, stats);
 * console.assert(stats.steps <= 4 * 121 * 51); // 4 × (name + 1) × (tokens + 1)
 * ```
 */
export function compileGlob(pattern: string): Glob {
  if (pattern.length > MAX_GLOB_LENGTH) {
    throw invalid(pattern, `longer than ${MAX_GLOB_LENGTH} characters`);
  }
  let body = pattern.trim();
  const dirOnly = body.endsWith("/");
  let end = body.length;
  while (end > 0 && body[end - 1] === "/") end--;
  body = body.slice(0, end);
  const anchored = body.includes("/");
  if (body.startsWith("/")) body = body.slice(1);
  else if (body.startsWith("./")) body = body.slice(2);
  const tokens = tokenize(body, pattern);
  const run = matcher(tokens);
  return {
    pattern,
    matches(path: string, isDir: boolean, stats?: MatchStats): boolean {
      if (dirOnly && !isDir) return false;
      if (anchored) return run(path, stats);
      const slash = path.lastIndexOf("/");
      return run(slash >= 0 ? path.slice(slash + 1) : path, stats);
    },
  };
}

/** True when any of the globs matches. */
export function matchesAny(globs: readonly Glob[], path: string, isDir: boolean): boolean {
  for (const glob of globs) if (glob.matches(path, isDir)) return true;
  return false;
}

function tokenize(glob: string, pattern: string): Token[] {
  const tokens: Token[] = [];
  // Knowing the last "]" keeps a run of unclosed "[" from rescanning the rest.
  const lastClose = glob.lastIndexOf("]");
  let i = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const segments = glob[i + 2] === "/";
        tokens.push({ kind: segments ? SEGMENTS : ANY });
        i += segments ? 3 : 2;
      } else {
        tokens.push({ kind: STAR });
        i += 1;
      }
    } else if (c === "?") {
      tokens.push({ kind: ONE });
      i += 1;
    } else if (c === "[" && lastClose >= i + 2) {
      // The first "]" after the one right behind "[" closes, as before.
      const close = glob.indexOf("]", i + 2);
      tokens.push(parseClass(glob.slice(i + 1, close), pattern));
      i = close + 1;
    } else {
      const point = glob.codePointAt(i)!;
      tokens.push({ kind: CHAR, char: point });
      i += point > 0xffff ? 2 : 1;
    }
  }
  return tokens;
}

/** `inner` is what stands between "[" and "]"; ranges follow RegExp class rules. */
function parseClass(inner: string, pattern: string): Token {
  if (inner.startsWith("]")) {
    throw invalid(pattern, `empty character class "[]" (a class cannot hold "]")`);
  }
  const negated = inner.startsWith("!") || inner.startsWith("^");
  const points = [...(negated ? inner.slice(1) : inner)].map((s) => s.codePointAt(0)!);
  if (points.length === 0) throw invalid(pattern, `empty character class "[${inner}]"`);
  const pairs: [number, number][] = [];
  for (let p = 0; p < points.length;) {
    // "a-z" is a range; a "-" first, last or right after a range is itself.
    if (points[p + 1] === 0x2d && p + 2 < points.length) {
      const [from, to] = [points[p], points[p + 2]];
      if (from > to) {
        const text = String.fromCodePoint(from, 0x2d, to);
        throw invalid(pattern, `reversed range "${escapeControl(text)}" in a character class`);
      }
      pairs.push([from, to]);
      p += 3;
    } else {
      pairs.push([points[p], points[p]]);
      p += 1;
    }
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const ranges: number[] = [];
  for (const [from, to] of pairs) {
    const last = ranges.length - 1;
    if (last > 0 && from <= ranges[last] + 1) ranges[last] = Math.max(ranges[last], to);
    else ranges.push(from, to);
  }
  return { kind: CLASS, ranges, negated };
}

function inClass(token: Token, point: number): boolean {
  // Binary search over the start of each range: O(log class length).
  const ranges = token.ranges!;
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  let found = false;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (point < ranges[2 * mid]) hi = mid - 1;
    else if (point > ranges[2 * mid + 1]) lo = mid + 1;
    else {
      found = true;
      break;
    }
  }
  return found !== token.negated;
}

/**
 * The automaton of `tokens`. State `i` (0 ≤ i ≤ n) is "before token i", state
 * n accepts, and state n + 1 + i is "inside the `**` + `/` token i" (it has consumed
 * something, so it may only leave through a `/`). Every step keeps the set of
 * states reached, each state at most once, so the work is bounded by the name
 * length times the number of states, never exponential.
 */
function matcher(tokens: Token[]): (text: string, stats?: MatchStats) => boolean {
  const n = tokens.length;
  // Matching is synchronous, so one set of buffers per glob is enough.
  const seen = new Float64Array(2 * n + 1).fill(-1);
  let generation = 0;
  let current: number[] = [];
  let next: number[] = [];
  let steps = 0;

  /** Add `state` and everything reachable from it without a character. */
  const add = (list: number[], state: number) => {
    for (let s = state; seen[s] !== generation; s++) {
      seen[s] = generation;
      list.push(s);
      steps++;
      if (s >= n) return;
      const kind = tokens[s].kind;
      if (kind !== STAR && kind !== ANY && kind !== SEGMENTS) return;
    }
  };

  return (text, stats) => {
    steps = 0;
    generation++;
    current.length = 0;
    add(current, 0);
    for (const ch of text) {
      const point = ch.codePointAt(0)!;
      generation++;
      next.length = 0;
      for (const s of current) {
        steps++;
        if (s > n) {
          add(next, s);
          if (point === SLASH) add(next, s - n);
          continue;
        }
        if (s === n) continue;
        const token = tokens[s];
        switch (token.kind) {
          case CHAR:
            if (point === token.char) add(next, s + 1);
            break;
          case ONE:
            if (point !== SLASH) add(next, s + 1);
            break;
          case CLASS:
            if (inClass(token, point)) add(next, s + 1);
            break;
          case STAR:
            if (point !== SLASH) add(next, s);
            break;
          case ANY:
            add(next, s);
            break;
          case SEGMENTS:
            add(next, n + 1 + s);
            if (point === SLASH) add(next, s + 1);
            break;
        }
      }
      [current, next] = [next, current];
      if (current.length === 0) break;
    }
    if (stats) stats.steps += steps;
    return current.includes(n);
  };
}

/** The usage error for `pattern`, quoted safely and cut if long. */
function invalid(pattern: string, why: string): UsageError {
  if (pattern.length <= 80) {
    return new UsageError(`invalid glob "${escapeControl(pattern)}": ${why}`);
  }
  // Not cutting a surrogate pair in two.
  const cut = /[\ud800-\udbff]/.test(pattern[79]) ? 79 : 80;
  const shown = escapeControl(pattern.slice(0, cut));
  return new UsageError(`invalid glob "${shown}…" (${pattern.length} characters): ${why}`);
}
