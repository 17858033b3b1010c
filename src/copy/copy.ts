/**
 * Copy between targets as a graph walk over descriptors (as oras-go does):
 * children before parents, blobs before manifests, every manifest pushed
 * with its exact bytes so digests stay identical. Blobs the destination
 * already has are skipped.
 *
 * @module
 */

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
  /** Blobs transferred at once (default 4). */
  concurrency?: number;
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
  const limit = limiter(options.concurrency ?? 4);
  const transfer = options.wrapTransfer ?? ((_d: Descriptor, run: () => Promise<void>) => run());
  const record = (descriptor: Descriptor, outcome: CopyOutcome) => {
    nodes[descriptor.digest] = outcome;
    options.onNode?.(descriptor, outcome);
  };
  // One transfer per digest even when several manifests share a blob.
  const blobTransfers = new Map<string, Promise<void>>();

  const copyBlob = (descriptor: Descriptor): Promise<void> => {
    let pending = blobTransfers.get(descriptor.digest);
    if (!pending) {
      pending = limit(async () => {
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
      blobTransfers.set(descriptor.digest, pending);
    }
    return pending;
  };

  const copyNode = async (descriptor: Descriptor, depth: number, rootTag?: string) => {
    if (depth > LIMITS.indexDepth) {
      throw new ArtifactError(`indexes nested deeper than ${LIMITS.indexDepth} levels`);
    }
    const bytes = await source.fetchManifest(descriptor);
    const parsed = parseManifest(bytes, descriptor.mediaType);
    if (parsed.kind === "index") {
      await Promise.all(parsed.index.manifests.map((child) => copyNode(child, depth + 1)));
    } else {
      const { config, layers } = parsed.manifest;
      await Promise.all([copyBlob(config), ...layers.map(copyBlob)]);
    }
    if (await alreadyThere(destination, descriptor, rootTag)) {
      record(descriptor, "skipped");
      return;
    }
    await destination.pushManifest(descriptor, bytes, rootTag);
    record(descriptor, "copied");
  };

  await copyNode(root, 0, tag);
  return { descriptor: root, nodes };
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

/** Run at most `n` async tasks at once. */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= n) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task().then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
}
