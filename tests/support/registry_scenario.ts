/**
 * Test support for registry fault, integrity and secret tests: an isolated
 * environment for CLI runs (fast retries), trees with a blob big enough to
 * matter, publishing, and checks that a failed pull left its output alone.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Descriptor } from "../../src/oci/types.ts";
import { type CliResult, isolatedEnv as sharedIsolatedEnv, runCli } from "./cli.ts";
import { describeTree, makeSampleTree } from "./tree.ts";

/** The shared isolated env, with 1 ms retry backoff so fault tests stay fast. */
export function isolatedEnv(
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return sharedIsolatedEnv(dir, { ARTIFACT_CLI_RETRY_BASE_MS: "1", ...extra });
}

/** Random bytes (incompressible, so the layer is about as big). */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

/** The sample tree plus `random.bin` of `randomSize` bytes (makes the layer about that big). */
export async function makeTree(root: string, randomSize: number): Promise<string> {
  await makeSampleTree(root);
  await Deno.writeFile(join(root, "random.bin"), randomBytes(randomSize));
  return root;
}

/** What `push --format json` reports. */
export interface PushReport {
  digest: string;
  size: number;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** Push `src` to `ref` (must succeed) and return the report. */
export async function push(
  ref: string,
  src: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<PushReport> {
  const result = await runCli(["push", ref, src, "--format", "json", ...args], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/**
 * The digests a push of `src` will produce, learnt by pushing it to a
 * scratch OCI layout (pushes are deterministic), so fault rules can name
 * blobs before the real push.
 */
export async function plannedDigests(
  src: string,
  scratch: string,
  env: Record<string, string>,
): Promise<PushReport> {
  return await push(`oci:${scratch}:planned`, src, env);
}

/** `/v2/.../blobs/<digest>` as a pattern for fault rules. */
export function blobPath(digest: string): RegExp {
  return new RegExp(`/blobs/${digest}$`);
}

/**
 * An output directory holding an earlier pull's content, and a check that
 * it (and its parent: no leftover temporary directories) did not change.
 */
export async function existingOutput(
  parent: string,
): Promise<{ out: string; assertUntouched: () => void }> {
  await Deno.mkdir(parent, { recursive: true });
  const out = join(parent, "out");
  await makeSampleTree(out);
  await Deno.writeTextFile(join(out, "previous.txt"), "from an earlier pull\n");
  const tree = describeTree(out, { modes: true });
  const siblings = () => [...Deno.readDirSync(parent)].map((e) => e.name).sort();
  const names = siblings();
  return {
    out,
    assertUntouched: () => {
      assert.deepEqual(describeTree(out, { modes: true }), tree, "output changed");
      assert.deepEqual(siblings(), names, "leftovers next to the output");
    },
  };
}

/** The `error:` lines of a run. */
export function errorLines(result: CliResult): string[] {
  return result.stderr.split("\n").filter((line) => line.startsWith("error:"));
}

/** The run failed with `code` and exactly one error line matching `pattern`. */
export function assertFailure(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  const lines = errorLines(result);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], pattern);
}

/**
 * A private TMPDIR for a CLI run (push stages layers there) and a check
 * that the run left nothing in it.
 */
export async function privateTmp(
  parent: string,
): Promise<{ env: Record<string, string>; assertEmpty: () => void }> {
  const path = join(parent, "tmp");
  await Deno.mkdir(path, { recursive: true });
  return {
    env: { TMPDIR: path },
    assertEmpty: () =>
      assert.deepEqual([...Deno.readDirSync(path)].map((e) => e.name), [], "temporary files left"),
  };
}
