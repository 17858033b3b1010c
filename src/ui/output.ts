/**
 * Where a command's words go: the result on stdout (text or one JSON
 * document), warnings and progress on stderr, nothing extra when `--quiet`.
 *
 * @module
 */

import { escapeControl, escapeLines } from "./escape.ts";

/** `--format` values. */
export type OutputFormat = "text" | "json";

/** Options shared by every command. */
export interface UiOptions {
  format: OutputFormat;
  quiet: boolean;
  debug: boolean;
  /** `--verbose`: step-by-step lines on stderr. */
  verbose?: boolean;
}

/**
 * A command's channel to the user.
 *
 * @example
 * ```ts
 * import { Ui } from "./output.ts";
 * const ui = new Ui({ format: "json", quiet: true, debug: false });
 * ui.warn("not shown when quiet");
 * ```
 */
export class Ui {
  readonly #encoder = new TextEncoder();
  constructor(
    readonly options: UiOptions,
    readonly stdout = Deno.stdout,
    readonly stderr = Deno.stderr,
  ) {}

  /** True when output is JSON. */
  get json(): boolean {
    return this.options.format === "json";
  }

  /**
   * Print the command's result: `value` as JSON, or `text` lines. Text is
   * escaped here, at the one boundary: control characters of an array's
   * element (one line each, e.g. untrusted names) are all escaped, line
   * breaks included; in a string every line is escaped and the breaks kept.
   */
  result(value: unknown, text: string | string[]): void {
    const lines = typeof text === "string" ? escapeLines(text) : text.map(escapeControl).join("\n");
    const out = this.json ? `${JSON.stringify(value, null, 2)}\n` : lines ? `${lines}\n` : "";
    if (out) this.#write(this.stdout, out);
  }

  /** A warning line on stderr (kept with --quiet only in --debug). */
  warn(message: string): void {
    if (this.options.quiet && !this.options.debug) return;
    this.#write(this.stderr, `warning: ${escapeControl(message)}\n`);
  }

  /** An informational line on stderr. */
  info(message: string): void {
    if (this.options.quiet) return;
    this.#write(this.stderr, `${escapeLines(message)}\n`);
  }

  /** A step-by-step line, shown with --verbose (or --debug) unless --quiet. */
  verbose(message: string): void {
    if ((this.options.verbose || this.options.debug) && !this.options.quiet) {
      this.#write(this.stderr, `${escapeLines(message)}\n`);
    }
  }

  /** A line shown only with --debug. */
  debug(message: string): void {
    if (this.options.debug) this.#write(this.stderr, `debug: ${escapeLines(message)}\n`);
  }

  #write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
    const bytes = this.#encoder.encode(text);
    let written = 0;
    while (written < bytes.byteLength) written += stream.writeSync(bytes.subarray(written));
  }
}
