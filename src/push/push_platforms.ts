/**
 * Push with platforms, in the shape docker buildx writes: an OCI index whose
 * entries carry `platform`, each an OCI image manifest whose OCI image config
 * has `os`/`architecture`/`variant` and `rootfs.diff_ids`. Platforms that
 * share a tree share one layer blob. Tool annotations go on the index and on
 * every manifest. Same trees and platforms give the same digests.
 *
 * @module
 */

import type { LayerPushOptions } from "./options.ts";
import { createStagingDir } from "./staging.ts";
import { CompressorPool, defaultCompressionWorkers } from "../archive/compress_pool.ts";
import { packingProgress } from "./pack_progress.ts";
import { buildTarLayer, type StagedLayer } from "../archive/layer.ts";
import { DEFAULT_CONCURRENCY, mapConcurrent } from "../concurrency.ts";
import { collectTree } from "../archive/walk.ts";
import { UsageError } from "../errors.ts";
import {
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  type Platform,
} from "../oci/platform.ts";
import type { Annotations, Descriptor } from "../oci/types.ts";
import { fileSource, type Target } from "../target.ts";
import { type Document, imageConfig, imageIndex, imageManifest } from "./image.ts";
import { type Upload, uploadBlobs, type UploadOutcome } from "./upload.ts";

/** One platform and the inputs of its tree. */
export interface PlatformTree {
  /** Platform this tree is for. */
  platform: Platform;
  /** Directories or files packed into its layer. */
  inputs: string[];
}

/** Options for {@link pushPlatforms}. */
export interface PushPlatformsOptions extends LayerPushOptions {
  /** One tree per platform. */
  trees: PlatformTree[];
  /** Annotations for the index and every manifest. */
  annotations?: Annotations;
}

/** One platform manifest of a multi-platform push. */
export interface PlatformManifest {
  /** Platform of this manifest. */
  platform: Platform;
  /** The manifest's descriptor (as listed in the index). */
  descriptor: Descriptor;
  /** The config blob. */
  config: Descriptor;
  /** The layer blobs, in order. */
  layers: Descriptor[];
}

/** What a multi-platform push stored. */
export interface PushPlatformsResult {
  /** The pushed index. */
  descriptor: Descriptor;
  /** One manifest per platform, in the order given. */
  manifests: PlatformManifest[];
  /** Distinct layer blobs (shared trees share one). */
  layers: Descriptor[];
  /** Per blob digest: whether it was sent or already there. */
  blobs: Record<string, UploadOutcome>;
}

/**
 * Parse `--platform` values: `os/arch[/variant]` lists (comma-separated, one
 * tree from `paths` shared by all) or `os/arch[/variant]=PATH` (a tree per
 * platform, repeatable). Architecture aliases are normalised (`x86_64` →
 * `amd64`); a variant is written only when given.
 *
 * @example
 * ```ts
 * import { parsePlatformTrees } from "./push_platforms.ts";
 * const trees = parsePlatformTrees(["linux/amd64,linux/arm64"], ["./site"]);
 * console.assert(trees.length === 2 && trees[1].inputs[0] === "./site");
 * ```
 */
export function parsePlatformTrees(values: string[], paths: string[]): PlatformTree[] {
  const items = values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
  const perPlatform = items.filter((i) => i.includes("="));
  if (perPlatform.length && perPlatform.length !== items.length) {
    throw new UsageError(
      "--platform: give a directory for every platform (os/arch=DIR) or for none",
    );
  }
  if (perPlatform.length && paths.length) {
    throw new UsageError(
      "--platform os/arch=DIR gives each platform its tree; do not also give paths",
    );
  }
  if (!perPlatform.length && !paths.length) {
    throw new UsageError("nothing to push: give a directory or file");
  }
  const seen = new Set<string>();
  return items.map((item) => {
    const eq = item.indexOf("=");
    const text = eq < 0 ? item : item.slice(0, eq);
    const path = eq < 0 ? "" : item.slice(eq + 1);
    if (eq >= 0 && !path) throw new UsageError(`--platform ${item}: missing directory after "="`);
    const given = parsePlatform(text);
    const normal = normalizePlatform(given);
    const key = formatPlatform(normal);
    if (seen.has(key)) throw new UsageError(`--platform ${key} is given twice`);
    seen.add(key);
    const platform: Platform = { os: normal.os, architecture: normal.architecture };
    if (given.variant) platform.variant = normal.variant;
    return { platform, inputs: eq < 0 ? paths : [path] };
  });
}

/**
 * Build and push one image per platform and an index over them.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { pushPlatforms } from "./push_platforms.ts";
 * const src = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${src}/a.txt`, "a");
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const result = await pushPlatforms(layout, {
 *   tag: "v1",
 *   trees: [
 *     { platform: { os: "linux", architecture: "amd64" }, inputs: [src] },
 *     { platform: { os: "linux", architecture: "arm64" }, inputs: [src] },
 *   ],
 * });
 * console.assert(result.layers.length === 1 && result.manifests.length === 2);
 * ```
 */
export async function pushPlatforms(
  target: Target,
  options: PushPlatformsOptions,
): Promise<PushPlatformsResult> {
  if (options.trees.length === 0) throw new UsageError("--platform: no platform given");
  const staging = await createStagingDir();
  const stagingDir = staging.path;
  const pool = new CompressorPool(options.compressionWorkers ?? defaultCompressionWorkers());
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  try {
    // Pack and compress each distinct tree once (compression already uses every core).
    const byInputs = new Map<string, StagedLayer>();
    const images: { tree: PlatformTree; layer: StagedLayer; config: Document }[] = [];
    for (const tree of options.trees) {
      const key = JSON.stringify(tree.inputs);
      let layer = byInputs.get(key);
      if (!layer) {
        const entries = collectTree(tree.inputs, {
          exclude: options.exclude,
          includeGit: options.includeGit,
          onWarning: options.onWarning,
        });
        const packing = packingProgress(options.progress, entries);
        layer = await buildTarLayer(entries, {
          compression: options.compression ?? "gzip",
          level: options.level,
          stagingDir,
          compressor: pool,
          parallelism: pool.parallelism,
          onProgress: packing.onProgress,
        });
        packing.done();
        byInputs.set(key, layer);
      }
      images.push({ tree, layer, config: imageConfig([layer.diffId], tree.platform) });
    }
    pool.close();
    // Then every distinct blob, `concurrency` at a time.
    const uploads = new Map<string, Upload>();
    for (const { layer, config } of images) {
      if (!uploads.has(layer.descriptor.digest)) {
        uploads.set(layer.descriptor.digest, {
          descriptor: layer.descriptor,
          // Digested as it was written into our private staging directory.
          content: fileSource(layer.path, layer.descriptor.size, { verified: true }),
        });
      }
      if (!uploads.has(config.descriptor.digest)) {
        uploads.set(config.descriptor.digest, {
          descriptor: config.descriptor,
          content: config.bytes,
        });
      }
    }
    const blobs = await uploadBlobs(target, [...uploads.values()], concurrency);
    // Platform manifests in parallel too, except into a layout, whose index.json
    // would then list them in whatever order they finished.
    const manifests = await mapConcurrent(
      images,
      target.local ? 1 : concurrency,
      async ({ tree, layer, config }): Promise<PlatformManifest> => {
        const manifest = imageManifest(config.descriptor, [layer.descriptor], {
          annotations: options.annotations,
        });
        await target.pushManifest(manifest.descriptor, manifest.bytes, undefined, { child: true });
        return {
          platform: tree.platform,
          descriptor: manifest.descriptor,
          config: config.descriptor,
          layers: [layer.descriptor],
        };
      },
    );
    const index = imageIndex(
      manifests.map((m) => ({ ...m.descriptor, platform: m.platform })),
      options.annotations,
    );
    await target.pushManifest(index.descriptor, index.bytes, options.tag);
    const layers = [...new Map(manifests.map((m) => [m.layers[0].digest, m.layers[0]])).values()];
    return { descriptor: index.descriptor, manifests, layers, blobs };
  } finally {
    pool.close();
    await staging[Symbol.asyncDispose]();
  }
}
