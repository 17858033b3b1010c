/**
 * Escaping of control characters in text output, as GNU tar escapes names:
 * an untrusted string (a tar name, an annotation, a tag, a registry's
 * message) must not move the cursor, clear the screen or forge lines.
 *
 * C0 characters, DEL and C1 characters (U+0080–U+009F) become `\a \b \t \n
 * \v \f \r` or a three-digit octal escape of their UTF-8 bytes (`\033`,
 * `\302\233`). Backslashes are left as they are. JSON output is not escaped
 * (JSON.stringify already escapes every control character).
 *
 * @module
 */

const NAMED: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\v": "\\v",
  "\f": "\\f",
  "\r": "\\r",
};

/**
 * `text` with every control character escaped.
 *
 * @example
 * ```ts
 * import { escapeControl } from "./escape.ts";
 * console.assert(escapeControl("a\x1b[2Jb\n") === "a\\033[2Jb\\n");
 * ```
 */
export function escapeControl(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) =>
    NAMED[c] ??
      [...new TextEncoder().encode(c)].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join(""));
}

/** Every line of `text` escaped, the line breaks between them kept. */
export function escapeLines(text: string): string {
  return text.split("\n").map(escapeControl).join("\n");
}
