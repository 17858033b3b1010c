/**
 * Checking push's local inputs before anything is opened or written, so a
 * typo is a usage error naming the path (exit 2), and `push DIR REF` is
 * recognised as swapped arguments rather than reported as a bad reference.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseReference } from "../reference.ts";
import type { PushPlan } from "./push_modes.ts";

function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}

function looksLikeRegistryReference(text: string): boolean {
  if (text.startsWith("oci:")) return true;
  try {
    parseReference(text);
    return /[/:]/.test(text);
  } catch {
    return false;
  }
}

/**
 * `push DIR REF`: the first argument is a local path and a later one is a
 * reference that names nothing on disk.
 */
export function checkArgumentOrder(reference: string, paths: string[]): void {
  if (reference.startsWith("oci:") || !lstatOrUndefined(reference)) return;
  const swapped = paths.find((p) => !lstatOrUndefined(p) && looksLikeRegistryReference(p));
  if (swapped !== undefined) {
    throw new UsageError(
      `the reference comes first: artifact-cli push ${swapped} ${reference} ` +
        `(${JSON.stringify(reference)} is a local path)`,
    );
  }
}

/** Every local path a plan reads. */
function planPaths(plan: PushPlan, inputs: string[]): string[] {
  switch (plan.kind) {
    case "tree":
      return inputs;
    case "platforms":
      return plan.trees.flatMap((t) => t.inputs);
    case "artifact":
      return [...plan.files.map((f) => f.path), ...(plan.config ? [plan.config.path] : [])];
  }
}

/** Refuse a plan whose inputs do not exist, with one line naming the path. */
export function checkPushInputs(plan: PushPlan, inputs: string[]): void {
  for (const path of new Set(planPaths(plan, inputs))) {
    try {
      Deno.statSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new UsageError(`${path} does not exist (push expects directories or files)`);
      }
      if (e instanceof Deno.errors.NotADirectory) {
        throw new UsageError(`${path}: a component before the last is not a directory`);
      }
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new UsageError(`${path}: permission denied`);
      }
      throw e;
    }
  }
}
