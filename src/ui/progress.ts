/**
 * Progress on a terminal: one live bar per blob (bytes, rate, ETA), each
 * replaced by a final line when it ends, and a summary line. When stderr is
 * not a terminal (or with --quiet) nothing is drawn at all.
 *
 * @module
 */

import { observeBytes } from "../byte_streams.ts";
import { escapeControl } from "./escape.ts";

/** One tracked transfer. */
export interface ProgressTask {
  /** Count `bytes` more as done. */
  add(bytes: number): void;
  /** The task ended; `note` replaces the rate (e.g. "exists", "skipped"). */
  done(note?: string): void;
}

/** A set of tasks drawn together. */
export interface Progress {
  /** Start tracking `label`; `total` in bytes when known. */
  task(label: string, total?: number): ProgressTask;
  /** Stop drawing; print `summary` as the last line. */
  close(summary?: string): void;
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** Draw at all (callers pass: stderr is a TTY and not --quiet). */
  enabled: boolean;
  /** Use colour (off with NO_COLOR). */
  color?: boolean;
  /** Where to draw; default stderr. */
  out?: { writeSync(p: Uint8Array): number };
  /** Terminal width; default from the console. */
  columns?: number;
  /** Redraw interval in ms (default 100). */
  intervalMs?: number;
}

const NOOP_TASK: ProgressTask = { add() {}, done() {} };
/** The Progress of a run that draws nothing (not a terminal, or --quiet). */
export const NO_PROGRESS: Progress = { task: () => NOOP_TASK, close() {} };
const NOOP = NO_PROGRESS;

interface TaskState {
  label: string;
  total?: number;
  bytes: number;
  started: number;
}

/**
 * A Progress that draws on a terminal, or does nothing when disabled.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const progress = createProgress({ enabled: false });
 * const task = progress.task("sha256:abc", 10);
 * task.add(10);
 * task.done();
 * progress.close("done");
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  if (!options.enabled) return NOOP;
  return new TerminalProgress(options);
}

/** Whether progress should be drawn: stderr is a terminal and not quiet. */
export function progressWanted(quiet: boolean): boolean {
  return !quiet && Deno.stderr.isTerminal();
}

/**
 * The progress a command shows: bars on a terminal; with `--verbose` and no
 * terminal, one line per finished transfer (logs of CI jobs and init
 * containers); otherwise nothing.
 *
 * @example
 * ```ts
 * import { NO_PROGRESS, progressFor } from "./progress.ts";
 * console.assert(progressFor({ quiet: true, verbose: true }) === NO_PROGRESS);
 * ```
 */
export function progressFor(
  options: { quiet: boolean; verbose?: boolean },
  out: { writeSync(p: Uint8Array): number } = Deno.stderr,
): Progress {
  if (progressWanted(options.quiet)) return createProgress({ enabled: true, out });
  if (options.verbose && !options.quiet) return new LineProgress(out);
  return NOOP;
}

/** One plain line per finished task, no redrawing. */
class LineProgress implements Progress {
  constructor(readonly out: { writeSync(p: Uint8Array): number }) {}

  task(rawLabel: string, total?: number): ProgressTask {
    // Labels carry names from content (layer titles, file names): escape them.
    const label = escapeControl(rawLabel);
    const started = performance.now();
    let bytes = 0;
    let ended = false;
    return {
      add: (n) => {
        bytes += n;
      },
      done: (note) => {
        if (ended) return;
        ended = true;
        const elapsed = (performance.now() - started) / 1000;
        this.#line(
          `${label}  ${note ?? `${formatBytes(total ?? bytes)} in ${formatDuration(elapsed)}`}`,
        );
      },
    };
  }

  close(summary?: string): void {
    if (summary) this.#line(summary);
  }

  #line(text: string): void {
    const bytes = new TextEncoder().encode(`${text}\n`);
    let written = 0;
    while (written < bytes.byteLength) written += this.out.writeSync(bytes.subarray(written));
  }
}

class TerminalProgress implements Progress {
  readonly #out: { writeSync(p: Uint8Array): number };
  readonly #color: boolean;
  readonly #columns: number;
  readonly #live = new Set<TaskState>();
  readonly #timer: number;
  #drawnLines = 0;
  #closed = false;

  constructor(options: ProgressOptions) {
    this.#out = options.out ?? Deno.stderr;
    this.#color = options.color ?? !Deno.env.get("NO_COLOR");
    this.#columns = options.columns ?? consoleColumns();
    // Node types (pulled in by npm packages) widen the return type; Deno returns a number.
    this.#timer = setInterval(() => this.#draw(), options.intervalMs ?? 100) as unknown as number;
    Deno.unrefTimer(this.#timer);
  }

  task(rawLabel: string, total?: number): ProgressTask {
    // Labels carry names from content (layer titles, file names): escape them.
    const label = escapeControl(rawLabel);
    const state: TaskState = { label, total, bytes: 0, started: performance.now() };
    this.#live.add(state);
    // Show the bar at once, so even a short transfer is visible while it runs.
    this.#draw();
    let ended = false;
    return {
      add: (bytes) => {
        state.bytes += bytes;
      },
      done: (note) => {
        if (ended || this.#closed) return;
        ended = true;
        this.#live.delete(state);
        this.#print([this.#finalLine(state, note)]);
      },
    };
  }

  close(summary?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#live.clear();
    this.#print(summary ? [summary] : []);
  }

  /** Print permanent lines above the live bars, then redraw the bars. */
  #print(lines: string[]): void {
    // Permanent lines are never cut: they hold digests people copy.
    this.#write(this.#clearLive() + lines.map((l) => `${l}\n`).join(""));
    this.#draw();
  }

  #draw(): void {
    if (this.#closed && this.#live.size === 0 && this.#drawnLines === 0) return;
    const bars = [...this.#live].map((s) => this.#fit(this.#barLine(s)));
    this.#write(this.#clearLive() + bars.map((b) => `${b}\n`).join(""));
    this.#drawnLines = bars.length;
  }

  #clearLive(): string {
    const n = this.#drawnLines;
    this.#drawnLines = 0;
    return n ? `\x1b[${n}A\x1b[J` : "";
  }

  #barLine(s: TaskState): string {
    const elapsed = (performance.now() - s.started) / 1000;
    const rate = elapsed > 0 ? s.bytes / elapsed : 0;
    const amount = s.total !== undefined
      ? `${formatBytes(s.bytes)} / ${formatBytes(s.total)}`
      : formatBytes(s.bytes);
    const eta = s.total !== undefined && rate > 0 && s.bytes < s.total
      ? `  ETA ${formatDuration((s.total - s.bytes) / rate)}`
      : "";
    const tail = `${amount}  ${formatBytes(rate)}/s${eta}`;
    // The numbers always fit; the label gives way first, then the bar.
    const room = this.#columns - 1 - tail.length - 2;
    const label = cut(shortLabel(s.label), Math.max(12, room - 12));
    const width = Math.min(30, room - label.length - 2 - 2);
    if (s.total === undefined || width < 8) return `${label}  ${tail}`;
    const fraction = s.total ? Math.min(1, s.bytes / s.total) : 0;
    const filled = Math.round(fraction * width);
    const bar = `[${"=".repeat(Math.max(0, filled - 1))}${filled ? ">" : ""}${
      " ".repeat(width - filled)
    }]`;
    return `${label}  ${bar} ${tail}`;
  }

  #finalLine(s: TaskState, note?: string): string {
    const elapsed = (performance.now() - s.started) / 1000;
    const what = note ?? `${formatBytes(s.total ?? s.bytes)} in ${formatDuration(elapsed)}`;
    const mark = this.#color ? "\x1b[32m✓\x1b[0m" : "✓";
    const label = cut(shortLabel(s.label), Math.max(12, this.#columns - 1 - what.length - 4));
    return `${mark} ${label}  ${what}`;
  }

  #fit(line: string): string {
    return line.length <= this.#columns - 1 ? line : `${line.slice(0, this.#columns - 2)}…`;
  }

  #write(text: string): void {
    if (!text) return;
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.byteLength) written += this.#out.writeSync(bytes.subarray(written));
  }
}

/** Digests shortened to 12 hex digits, as docker shows image IDs: bars must fit 80 columns. */
function shortLabel(label: string): string {
  return label.replace(/\b[a-z0-9]+:([0-9a-f]{12})[0-9a-f]{20,}\b/g, "$1");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/**
 * Human-readable bytes (binary units).
 *
 * @example
 * ```ts
 * import { formatBytes } from "./progress.ts";
 * console.assert(formatBytes(1536) === "1.5 KiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `1.2s`, `3m04s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Wrap a byte stream so that every chunk is counted on `task`. */
export function countBytes(
  stream: ReadableStream<Uint8Array>,
  task: ProgressTask,
): ReadableStream<Uint8Array> {
  // A byte stream stays one, so pulls keep reading into one reused buffer.
  return observeBytes(stream, { chunk: (view) => task.add(view.byteLength) });
}
