/**
 * Pull: resolve a reference, choose the manifest, and write its layers into
 * an output directory atomically.
 *
 * @module
 */

import { DEFAULT_MAX_BYTES, TreeWriter } from "../archive/extract.ts";
import { ArtifactError } from "../errors.ts";
import { entryLabels, type SelectedManifest, selectManifest } from "../format/select.ts";
import { formatPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/platform.ts";
import type { Selector } from "../format/select_annotations.ts";
import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { applyTarLayer, shortDigest } from "./apply_layers.ts";
import { applyFileLayer, insideDirectory } from "./apply_artifact.ts";
import { BUNDLE_NOTE, currentUmask, imgpkgMode } from "./imgpkg.ts";
import { planLayers, type PlannedLayer } from "../format/layer_plan.ts";
import { DEFAULT_CONCURRENCY } from "../concurrency.ts";
import { LayerPrefetcher } from "./prefetch.ts";
import { checkOutputTarget, recoverInterrupted, replaceDirectory } from "./atomic_output.ts";

/** Options for {@link pull}. */
export interface PullOptions {
  /** Directory to create or replace. */
  output: string;
  /** Tag or digest; undefined means the target's default. */
  tagOrDigest?: string;
  /** Platform to pick from an index (default: the host's). */
  platform?: Platform;
  /** Index-entry annotations the pulled manifest must have (`--select`); see select_annotations.ts. */
  select?: Selector;
  /** Most bytes of file content to write. */
  maxBytes?: number;
  /** Layers downloaded at once (later ones are fetched ahead while one is extracted). */
  concurrency?: number;
  /** Replace a non-empty output directory that no earlier pull wrote. */
  force?: boolean;
  /** Record the output as a pull's (default true; sync's scratch pulls pass false). */
  remember?: boolean;
  /** Receives warnings (one line each). */
  onWarning?: (message: string) => void;
  /** Receives notes (e.g. that an imgpkg bundle's nested images are not fetched). */
  onInfo?: (message: string) => void;
}

async function applyPlanned(
  target: Target,
  planned: PlannedLayer,
  writer: TreeWriter,
  mapMode: ((mode: number) => number) | undefined,
): Promise<void> {
  const layer = planned.descriptor;
  switch (planned.action) {
    case "tar":
      return await applyTarLayer(target, layer, writer, { mapMode });
    case "unpack":
      return await applyTarLayer(target, layer, writer, {
        compression: planned.compression,
        filter: insideDirectory(planned.title!),
      });
    case "file":
      return await applyFileLayer(target, layer, writer, planned.title!);
    case "skip":
      return;
  }
}

/** The warning for an index with several entries for the chosen platform. */
function ambiguityWarning(
  where: string,
  { chosen, others }: NonNullable<SelectedManifest["ambiguity"]>,
): string {
  const [first, ...rest] = entryLabels([chosen, ...others]);
  const platform = chosen.platform ? formatPlatform(chosen.platform) : "the platform";
  return `${rest.length + 1} entries of ${where} match ${platform}; pulling the first, ${first}` +
    `; also matching: ${rest.join(", ")}. Pull one by its digest (REF@sha256:...) to choose.`;
}

/** What a pull wrote. */
export interface PullResult {
  /** What the reference resolved to (manifest or index). */
  resolved: Descriptor;
  /** The manifest that was pulled (and the index entry it came from). */
  selected: Omit<SelectedManifest, "bytes" | "manifest" | "config">;
  /** The layers that were applied, in order. */
  layers: Descriptor[];
  /** The output directory written. */
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
  // Refuse before downloading anything: a directory of someone's files is not replaced.
  await checkOutputTarget(options.output, { force: options.force });
  const resolved = await target.resolve(options.tagOrDigest);
  const selected = await selectManifest(target, resolved, options.platform, options.select);
  const layers = selected.manifest.layers;
  if (selected.ambiguity) options.onWarning?.(ambiguityWarning(target.name, selected.ambiguity));
  if (selected.configWarning) options.onWarning?.(selected.configWarning);
  const plan = planLayers(selected.manifest, selected.format);
  for (const planned of plan) {
    if (planned.action === "skip") {
      options.onWarning?.(
        `skipping layer ${shortDigest(planned.descriptor.digest)}: ${planned.reason}`,
      );
    }
  }
  if (plan.length > 0 && plan.every((p) => p.action === "skip")) {
    throw new ArtifactError(
      `nothing to pull from ${target.name}: none of its ${plan.length} layers can be written as files`,
    );
  }
  const imgpkg = selected.format.kind === "imgpkg-image" ||
    selected.format.kind === "imgpkg-bundle";
  if (selected.format.kind === "imgpkg-bundle") options.onInfo?.(BUNDLE_NOTE);
  const umask = currentUmask();
  const mapMode = imgpkg ? (mode: number) => imgpkgMode(mode, umask) : undefined;
  await replaceDirectory(options.output, async (dir) => {
    const writer = new TreeWriter(dir, {
      maxBytes: options.maxBytes,
      onWarning: options.onWarning,
    });
    // Layers are applied in order; the next ones download meanwhile.
    await using prefetcher = await LayerPrefetcher.create(
      target,
      plan.filter((p) => p.action !== "skip").map((p) => p.descriptor),
      options.concurrency ?? DEFAULT_CONCURRENCY,
      // Compressed layers are staged: give them the size limit plus gzip's worst-case overhead.
      Math.ceil((options.maxBytes ?? DEFAULT_MAX_BYTES) * 1.01) + (1 << 20),
    );
    const prefetching = prefetcher.wrap(target);
    try {
      for (const planned of plan) {
        await applyPlanned(prefetching, planned, writer, mapMode);
      }
      writer.finish();
    } catch (e) {
      writer.abort();
      throw e;
    }
  }, { force: options.force, remember: options.remember });
  const { bytes: _bytes, manifest: _manifest, config: _config, ...summary } = selected;
  return { resolved, selected: summary, layers, output: options.output };
}
