/**
 * What pull does with each layer of the chosen manifest:
 *
 * - `tar`: a filesystem layer (OCI or Docker, gzip/zstd/none), applied in
 *   order with whiteouts;
 * - `unpack`: an oras directory (`io.deis.oras.content.unpack: "true"`, a
 *   tar+gzip whose entries all live under the title), unpacked as that
 *   directory;
 * - `file`: a layer named by `org.opencontainers.image.title` that is not a
 *   filesystem layer — any non-tar media type, or any layer of an OCI
 *   artifact (oras gives plain files the tar media type by default) —
 *   written as the file of that name;
 * - `skip`: foreign layers (their content lives elsewhere), and non-tar
 *   layers without a title (there is no name to give them; oras skips them
 *   with a warning too).
 *
 * A Helm chart is planned by its own rules (helm.ts): its chart and
 * provenance layers are `file`s named from the chart's config.
 *
 * @module
 */

import { UnsafeContentError } from "../errors.ts";
import { TITLE_ANNOTATION, UNPACK_ANNOTATION } from "../oci/annotations.ts";
import type { DetectedFormat } from "./detect.ts";
import { type LayerCompression, layerKind } from "../oci/media_types.ts";
import type { Descriptor, ImageManifest } from "../oci/types.ts";
import { planHelmLayers } from "./helm.ts";

/** What to do with one layer. */
export type LayerAction = "tar" | "unpack" | "file" | "skip";

/** One layer and what pull does with it. */
export interface PlannedLayer {
  /** The layer. */
  descriptor: Descriptor;
  /** What pull does with it. */
  action: LayerAction;
  /** For `unpack` and `file`: the validated relative path. */
  title?: string;
  /** For `tar` and `unpack`: how the tar is compressed. */
  compression?: LayerCompression;
  /** For `skip`: why. */
  reason?: string;
}

/**
 * Plan the layers of `manifest`. Titles are validated here (relative, no
 * `..`, no whiteout names); the extractor enforces the rest.
 *
 * @example
 * ```ts
 * import { planLayers } from "./layer_plan.ts";
 * const digest = `sha256:${"0".repeat(64)}` as const;
 * const plan = planLayers({
 *   schemaVersion: 2,
 *   config: { mediaType: "application/vnd.oci.empty.v1+json", digest, size: 2 },
 *   layers: [{ mediaType: "text/yaml", digest, size: 1,
 *     annotations: { "org.opencontainers.image.title": "spec.yaml" } }],
 * }, { kind: "artifact", label: "OCI artifact", evidence: [] });
 * console.assert(plan[0].action === "file" && plan[0].title === "spec.yaml");
 * ```
 */
export function planLayers(manifest: ImageManifest, format: DetectedFormat): PlannedLayer[] {
  if (format.kind === "helm-chart") return planHelmLayers(manifest, format);
  const artifact = format.kind === "artifact" ||
    (format.kind === "artifact-cli" && format.artifactType !== undefined);
  return manifest.layers.map((descriptor): PlannedLayer => {
    const kind = layerKind(descriptor.mediaType);
    const rawTitle = descriptor.annotations?.[TITLE_ANNOTATION];
    if (kind.foreign) {
      return { descriptor, action: "skip", reason: "foreign layer: its content lives elsewhere" };
    }
    if (rawTitle !== undefined && descriptor.annotations?.[UNPACK_ANNOTATION] === "true") {
      // oras always gunzips what it unpacks; a tar media type says so more precisely.
      const compression = kind.tar ? kind.compression : "gzip";
      return { descriptor, action: "unpack", title: validateTitle(rawTitle), compression };
    }
    if (rawTitle !== undefined && (!kind.tar || artifact)) {
      return { descriptor, action: "file", title: validateTitle(rawTitle) };
    }
    if (kind.tar) return { descriptor, action: "tar", compression: kind.compression };
    return {
      descriptor,
      action: "skip",
      reason:
        `not a filesystem layer (${descriptor.mediaType}) and no ${TITLE_ANNOTATION} to name it`,
    };
  });
}

/**
 * A title as a clean relative path: `./` segments and a trailing `/`
 * removed; absolute paths, `..`, NUL and whiteout names refused.
 */
export function validateTitle(title: string): string {
  const refuse = (why: string) =>
    new UnsafeContentError(`refusing layer title ${JSON.stringify(title.slice(0, 200))}: ${why}`);
  if (title.includes("\0")) throw refuse("it contains NUL");
  if (title.startsWith("/")) throw refuse("it is an absolute path");
  const parts = title.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) throw refuse("it names no file");
  if (parts.includes("..")) throw refuse('it contains ".."');
  if (parts.some((p) => p.startsWith(".wh."))) {
    throw refuse("names starting with .wh. are whiteouts");
  }
  return parts.join("/");
}
