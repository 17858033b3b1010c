/**
 * Path globs with .gitignore-like rules, used by `--exclude` and by `sync`
 * include/exclude filters:
 *
 * - `*` matches within one path segment, `**` across segments, `?` one
 *   character, `[abc]` / `[!abc]` a character class;
 * - a pattern without `/` matches the base name at any depth (`*.log`);
 * - a pattern with `/` is anchored at the root (`docs/*.md`, `/build`);
 * - a trailing `/` matches directories only.
 *
 * @module
 */

/** A compiled glob. */
export interface Glob {
  readonly pattern: string;
  /** Test a root-relative POSIX path; `isDir` enables directory-only patterns. */
  matches(path: string, isDir: boolean): boolean;
}

/**
 * Compile a glob.
 *
 * @example
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * console.assert(compileGlob("*.log").matches("a/b/c.log", false));
 * console.assert(!compileGlob("/build").matches("src/build", true));
 * console.assert(compileGlob("docs/**").matches("docs/a/b.md", false));
 * ```
 */
export function compileGlob(pattern: string): Glob {
  let body = pattern.trim();
  const dirOnly = body.endsWith("/");
  if (dirOnly) body = body.replace(/\/+$/, "");
  const anchored = body.includes("/");
  body = body.replace(/^\.?\//, "");
  const regex = new RegExp(`^${translate(body)}$`);
  return {
    pattern,
    matches(path: string, isDir: boolean): boolean {
      if (dirOnly && !isDir) return false;
      if (anchored) return regex.test(path);
      const slash = path.lastIndexOf("/");
      return regex.test(slash >= 0 ? path.slice(slash + 1) : path);
    },
  };
}

function translate(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        // "**/" matches zero or more whole segments; a bare "**" anything.
        if (glob[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else {
          out += ".*";
          i += 1;
        }
      } else {
        out += "[^/]*";
      }
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
      } else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else {
      out += c.replace(/[.+^${}()|\\]/g, "\\$&");
    }
  }
  return out;
}

/** True when any of the globs matches. */
export function matchesAny(globs: readonly Glob[], path: string, isDir: boolean): boolean {
  for (const glob of globs) if (glob.matches(path, isDir)) return true;
  return false;
}
