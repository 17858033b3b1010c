/**
 * Names artifact-cli reserves for its own temporary state next to and inside
 * output directories. Content never carries them: extraction and push refuse
 * them, so a name of this shape found on disk was made by us or by someone
 * writing there directly — and recovery still checks the owner record
 * (owner_marks.ts) before it touches anything.
 *
 * @module
 */

/** Matches a path component holding one of the reserved markers anywhere in it. */
const RESERVED = /\.artifact-cli-(?:tmp|old|new|owner)-/;

/**
 * True when a single path component uses the tool's temporary-state pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isReservedName } from "./reserved_names.ts";
 * assert.equal(isReservedName(".artifact-cli-new-999999-deadbeef"), true);
 * assert.equal(isReservedName(".out.artifact-cli-old-1-0123abcd"), true);
 * assert.equal(isReservedName("artifact-cli.yaml"), false);
 * ```
 */
export function isReservedName(component: string): boolean {
  return RESERVED.test(component);
}

/** The error text for a reserved name found in content. */
export function reservedNameMessage(path: string): string {
  return `refusing ${JSON.stringify(path)}: names containing ".artifact-cli-tmp-", ` +
    `"-old-", "-new-" or "-owner-" are reserved for artifact-cli's temporary state`;
}
