/**
 * Pull: resolve a reference, choose the manifest, and write its layers into
 * an output directory atomically.
 *
 * @module
 */

import { TreeWriter } from "../archive/extract.ts";
import { ArtifactError } from "../errors.ts";
import { type SelectedManifest, selectManifest } from "../format/select.ts";
import { layerKind } from "../oci/media_types.ts";
import type { Platform } from "../oci/platform.ts";
import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { applyTarLayer, shortDigest } from "./apply_layers.ts";
import { recoverInterrupted, replaceDirectory } from "./atomic_output.ts";

/** Options for {@link pull}. */
export interface PullOptions {
  /** Directory to create or replace. */
  output: string;
  /** Tag or digest; undefined means the target's default. */
  tagOrDigest?: string;
  platform?: Platform;
  /** Most bytes of file content to write. */
  maxBytes?: number;
  onWarning?: (message: string) => void;
}

/** What a pull wrote. */
export interface PullResult {
  /** What the reference resolved to (manifest or index). */
  resolved: Descriptor;
  selected: Omit<SelectedManifest, "bytes" | "manifest">;
  layers: Descriptor[];
  output: string;
}

/**
 * Pull the content at `tagOrDigest` from `target` into `options.output`.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { pushTree } from "../push/push_tree.ts";
 * import { pull } from "./pull.ts";
 * const src = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${src}/a.txt`, "a");
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * await pushTree(layout, { inputs: [src], tag: "v1" });
 * const out = `${await Deno.makeTempDir()}/out`;
 * await pull(layout, { tagOrDigest: "v1", output: out });
 * console.assert(Deno.readTextFileSync(`${out}/a.txt`) === "a");
 * ```
 */
export async function pull(target: Target, options: PullOptions): Promise<PullResult> {
  // First repair what a killed earlier pull left, even if this one then fails.
  await recoverInterrupted(options.output);
  const resolved = await target.resolve(options.tagOrDigest);
  const selected = await selectManifest(target, resolved, options.platform);
  const layers = selected.manifest.layers;
  for (const layer of layers) {
    const kind = layerKind(layer.mediaType);
    if (!kind.tar) {
      throw new ArtifactError(
        `layer ${
          shortDigest(layer.digest)
        } has media type ${layer.mediaType}, which is not a tar layer; ` +
          `non-tar artifact layers are not supported yet`,
      );
    }
  }
  await replaceDirectory(options.output, async (dir) => {
    const writer = new TreeWriter(dir, {
      maxBytes: options.maxBytes,
      onWarning: options.onWarning,
    });
    try {
      for (const layer of layers) {
        if (layerKind(layer.mediaType).foreign) {
          options.onWarning?.(
            `skipping foreign layer ${shortDigest(layer.digest)} (${layer.mediaType})`,
          );
          continue;
        }
        await applyTarLayer(target, layer, writer);
      }
      writer.finish();
    } catch (e) {
      writer.abort();
      throw e;
    }
  });
  const { bytes: _bytes, manifest: _manifest, ...summary } = selected;
  return { resolved, selected: summary, layers, output: options.output };
}
