/**
 * Escaping control characters of untrusted text (tar names, annotations, tag
 * names, registry messages) before it reaches a terminal, where an escape
 * sequence could rewrite the screen, the title or the clipboard. As GNU tar
 * prints names: `\n`, `\t`, `\r` by name, every other C0 control, DEL and C1
 * control (U+0080–U+009F) as a backslash and three octal digits.
 *
 * @module
 */

const NAMED: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r" };
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character escaped, newlines included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls } from "./escape.ts";
 * assert.equal(escapeControls("a\u001b[31mb\n"), "a\\033[31mb\\n");
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(
    CONTROLS,
    (c) => NAMED[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`,
  );
}

/** Escape each line of `text`, keeping its line breaks (output of several lines). */
export function escapeLines(text: string): string {
  return text.split("\n").map(escapeControls).join("\n");
}
