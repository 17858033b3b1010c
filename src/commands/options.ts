/**
 * Parsers for option values shared by several commands.
 *
 * @module
 */

import { InvalidArgumentError } from "commander";
import { parseSelector, type Selector } from "../format/select_annotations.ts";

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parse an integer option within bounds. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/**
 * Parse a byte size such as `512M`, `10G`, `1.5g` or `4096`.
 *
 * @example
 * ```ts
 * import { parseSize } from "./options.ts";
 * console.assert(parseSize("2K") === 2048);
 * ```
 */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError("expected a size such as 512M or 10G");
  return Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]);
}

/** Parse `key=value` annotations into a record (later keys win). */
export function parseAnnotations(values: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new InvalidArgumentError(`annotation ${JSON.stringify(value)} is not key=value`);
    }
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

/** `--select` values as a selector, or undefined when none were given. */
export function selectorOf(opts: { select?: string[] }): Selector | undefined {
  return opts.select?.length ? parseSelector(opts.select) : undefined;
}
