/**
 * Copy between targets as a graph walk over descriptors (as oras-go does):
 * every manifest and blob is fetched and copied once however many parents
 * list it, at most `concurrency` requests run at a time, children are pushed
 * before parents and blobs before the manifests listing them, each manifest
 * with its exact bytes so digests stay identical. Blobs the destination
 * already has are skipped.
 *
 * The walk has two phases. Discovery fetches each distinct manifest once
 * (under the limiter, released before its children are looked at) and
 * starts the transfers of its blobs; it stops at {@link LIMITS}.copyNodes
 * distinct nodes. Then, the graph being known, its depth is checked against
 * `LIMITS.indexDepth` on the longest path and manifests are pushed bottom-up,
 * each once its children and blobs are done. Nothing waits while holding a
 * slot of the limiter, so a parent cannot starve its children; and a cycle
 * (impossible with verified digests, but a target may not verify) is an
 * error, not a promise waiting on itself.
 *
 * @module
 */

import { DEFAULT_CONCURRENCY, limiter } from "../concurrency.ts";
import { ArtifactError, NotFoundError } from "../errors.ts";
import { LIMITS } from "../oci/limits.ts";
import { layerKind } from "../oci/media_types.ts";
import { parseManifest } from "../oci/parse.ts";
import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";

/** What happened to one node of the graph. */
export type CopyOutcome = "copied" | "skipped" | "foreign";

/** Options for {@link copyGraph}. */
export interface CopyOptions {
  /** Requests (manifest fetches, blob transfers, manifest pushes) at once (default 4). */
  concurrency?: number;
  /** Most distinct manifests and blobs walked (default `LIMITS.copyNodes`). */
  maxNodes?: number;
  /** Called once per blob or manifest with what happened to it. */
  onNode?: (descriptor: Descriptor, outcome: CopyOutcome) => void;
  /** Wraps each blob transfer, e.g. for progress; must return `transfer()`'s promise. */
  wrapTransfer?: (descriptor: Descriptor, transfer: () => Promise<void>) => Promise<void>;
}

/** What a copy did. */
export interface CopyResult {
  /** The root manifest or index, as pushed. */
  descriptor: Descriptor;
  /** Outcome per digest. */
  nodes: Record<string, CopyOutcome>;
}

/** A manifest or index found by discovery, waiting to be pushed. */
interface Found {
  descriptor: Descriptor;
  /** Exact bytes as fetched. */
  bytes: Uint8Array;
  /** Digests of the manifests an index lists (none for a manifest). */
  children: string[];
  /** Transfers of a manifest's config and layers (none for an index). */
  blobs: Promise<void>[];
}

/**
 * Copy what `tagOrDigest` points at in `source` to `destination`, tagging
 * the root with `tag` when given. Indexes are copied whole: every platform
 * and every attestation.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { pushTree } from "../push/push_tree.ts";
 * import { copyGraph } from "./copy.ts";
 * const src = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${src}/a.txt`, "a");
 * const from = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const pushed = await pushTree(from, { inputs: [src], tag: "v1" });
 * const to = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const copied = await copyGraph(from, "v1", to, "v1");
 * console.assert(copied.descriptor.digest === pushed.descriptor.digest);
 * ```
 */
export async function copyGraph(
  source: Target,
  tagOrDigest: string | undefined,
  destination: Target,
  tag?: string,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const root = await source.resolve(tagOrDigest);
  const nodes: Record<string, CopyOutcome> = {};
  const maxNodes = options.maxNodes ?? LIMITS.copyNodes;
  const limit = limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
  const transfer = options.wrapTransfer ?? ((_d: Descriptor, run: () => Promise<void>) => run());
  const record = (descriptor: Descriptor, outcome: CopyOutcome) => {
    nodes[descriptor.digest] = outcome;
    options.onNode?.(descriptor, outcome);
  };

  // Every request goes through `run`: bounded, and none starts after a failure.
  let failure: { error: unknown } | undefined;
  const requests: Promise<unknown>[] = [];
  const run = <T>(task: () => Promise<T>): Promise<T> => {
    const promise = limit(() => failure ? Promise.reject(failure.error) : task());
    requests.push(promise.catch((error) => (failure ??= { error })));
    return promise;
  };

  // Distinct nodes walked, manifests and blobs apart (a digest could name both).
  const seen = new Set<string>();
  const claim = (key: string): boolean => {
    if (seen.has(key)) return false;
    if (seen.size >= maxNodes) {
      throw new ArtifactError(
        `${root.digest} reaches more than ${maxNodes} distinct manifests and blobs (the limit); refusing to copy it`,
      );
    }
    seen.add(key);
    return true;
  };

  const blobs = new Map<string, Promise<void>>();
  const copyBlob = (descriptor: Descriptor): Promise<void> => {
    let pending = blobs.get(descriptor.digest);
    if (!pending) {
      claim(`blob ${descriptor.digest}`);
      pending = run(async () => {
        if (await destination.exists(descriptor)) return record(descriptor, "skipped");
        if (descriptor.urls?.length && layerKind(descriptor.mediaType).foreign) {
          if (!(await source.exists(descriptor))) return record(descriptor, "foreign");
        }
        await transfer(descriptor, () =>
          destination.pushBlob(descriptor, {
            size: descriptor.size,
            open: () => source.fetchBlob(descriptor),
            mountFrom: source.location,
          }));
        record(descriptor, "copied");
      });
      blobs.set(descriptor.digest, pending);
    }
    return pending;
  };

  const found = new Map<string, Found>();
  // Resolves once every manifest first reached through `descriptor` is fetched.
  const discover = async (descriptor: Descriptor, depth: number): Promise<void> => {
    if (!claim(`manifest ${descriptor.digest}`)) return;
    if (depth > LIMITS.indexDepth) throw tooDeep();
    const bytes = await run(() => source.fetchManifest(descriptor));
    const parsed = parseManifest(bytes, descriptor.mediaType);
    if (parsed.kind === "index") {
      const children = parsed.index.manifests;
      found.set(descriptor.digest, {
        descriptor,
        bytes,
        children: children.map((child) => child.digest),
        blobs: [],
      });
      await Promise.all(children.map((child) => discover(child, depth + 1)));
    } else {
      const { config, layers } = parsed.manifest;
      found.set(descriptor.digest, {
        descriptor,
        bytes,
        children: [],
        blobs: [config, ...layers].map(copyBlob),
      });
    }
  };

  // Longest path below each manifest; recursion stops at the depth limit or a cycle.
  const heights = new Map<string, number>();
  const onPath = new Set<string>();
  const measure = (digest: string, depth: number): number => {
    if (onPath.has(digest)) {
      throw new ArtifactError(`index ${digest} lists itself through its children (a cycle)`);
    }
    let height = heights.get(digest);
    if (height === undefined) {
      if (depth > LIMITS.indexDepth) throw tooDeep();
      onPath.add(digest);
      height = 0;
      for (const child of found.get(digest)!.children) {
        height = Math.max(height, 1 + measure(child, depth + 1));
      }
      onPath.delete(digest);
      heights.set(digest, height);
    }
    if (depth + height > LIMITS.indexDepth) throw tooDeep();
    return height;
  };

  const pushes = new Map<string, Promise<void>>();
  const push = (digest: string, rootTag?: string): Promise<void> => {
    let pending = pushes.get(digest);
    if (!pending) {
      const { descriptor, bytes, children, blobs } = found.get(digest)!;
      pending = (async () => {
        // Waiting here holds no slot: only the push itself runs under the limiter.
        await Promise.all([...children.map((child) => push(child)), ...blobs]);
        await run(async () => {
          if (await alreadyThere(destination, descriptor, rootTag)) {
            return record(descriptor, "skipped");
          }
          await destination.pushManifest(descriptor, bytes, rootTag, {
            child: digest !== root.digest,
          });
          record(descriptor, "copied");
        });
      })();
      pushes.set(digest, pending);
    }
    return pending;
  };

  try {
    await discover(root, 0);
    measure(root.digest, 0);
    await push(root.digest, tag);
  } catch (e) {
    failure ??= { error: e };
    // Let requests already running end (the rest are refused), so the caller may close the targets.
    for (let i = 0; i < requests.length; i++) await requests[i];
    throw e;
  }
  return { descriptor: root, nodes };
}

function tooDeep(): ArtifactError {
  return new ArtifactError(`indexes nested deeper than ${LIMITS.indexDepth} levels (the limit)`);
}

/** The manifest is stored and, when a tag is wanted, the tag already points at it. */
async function alreadyThere(
  target: Target,
  descriptor: Descriptor,
  tag?: string,
): Promise<boolean> {
  if (tag === undefined) return await target.exists(descriptor);
  try {
    return (await target.resolve(tag)).digest === descriptor.digest;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}
