/**
 * artifact-cli as a library: push directories to, and pull them from, OCI
 * registries and OCI image layouts.
 *
 * @example
 * ```ts
 * import { OciLayout, pull, pushTree } from "./mod.ts";
 * const src = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${src}/hello.txt`, "hello\n");
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * await pushTree(layout, { inputs: [src], tag: "v1" });
 * await pull(layout, { tagOrDigest: "v1", output: `${await Deno.makeTempDir()}/out` });
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export * from "./src/oci/media_types.ts";
export * from "./src/oci/digest.ts";
export * from "./src/oci/platform.ts";
export type * from "./src/oci/types.ts";
export * from "./src/oci/parse.ts";
export * from "./src/reference.ts";
export * from "./src/target.ts";
export { OciLayout, type OpenLayoutOptions } from "./src/layout/oci_layout.ts";
export { type PushResult, pushTree, type PushTreeOptions } from "./src/push/push_tree.ts";
export {
  parsePlatformTrees,
  type PlatformTree,
  pushPlatforms,
  type PushPlatformsOptions,
  type PushPlatformsResult,
} from "./src/push/push_platforms.ts";
export {
  type ArtifactInput,
  pushArtifact,
  type PushArtifactOptions,
  type PushArtifactResult,
} from "./src/push/push_artifact.ts";
export { pull, type PullOptions, type PullResult } from "./src/pull/pull.ts";
export { copyGraph, type CopyOptions, type CopyOutcome, type CopyResult } from "./src/copy/copy.ts";
export * from "./src/oci/annotations.ts";
export * from "./src/format/detect.ts";
export { inspect, type Inspected } from "./src/format/inspect.ts";
export { type SelectedManifest, selectIndexEntry, selectManifest } from "./src/format/select.ts";
export { type LayerAction, planLayers, type PlannedLayer } from "./src/format/layer_plan.ts";
export * from "./src/format/describe.ts";
export { openTarget, type OpenTargetOptions } from "./src/targets.ts";
export {
  fallbackTag,
  listReferrers,
  type ReferrersList,
  type ReferrersSource,
} from "./src/referrers/discover.ts";
export { type AttachedVia, attachReferrer } from "./src/referrers/attach.ts";
export {
  type ReferrerNode,
  type ReferrersTree,
  referrersTree,
  type ReferrersTreeOptions,
} from "./src/referrers/tree.ts";
export { VERSION } from "./src/version.ts";
export type { LayerPushOptions } from "./src/push/options.ts";
export type { UploadOutcome } from "./src/push/upload.ts";
export type { PoolStats } from "./src/archive/compress_pool.ts";
export type { PlatformManifest } from "./src/push/push_platforms.ts";
export type { Selector } from "./src/format/select_annotations.ts";
export type { RegistryOptions } from "./src/registry/client.ts";
export type { ExplicitCredentials } from "./src/registry/credentials.ts";
export type { RetryPolicy } from "./src/registry/retry.ts";
export type { Progress, ProgressTask } from "./src/ui/progress.ts";
