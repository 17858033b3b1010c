/**
 * `describe`: what a reference holds, what it was recognised as and why, its
 * platforms, and what pull would do with each layer. The JSON shape
 * ({@link Description}) is documented in docs/formats.md and kept stable.
 *
 * @module
 */

import { ArtifactError } from "../errors.ts";
import { formatPlatform, type Platform } from "../oci/platform.ts";
import type { Selector } from "./select_annotations.ts";
import type { Annotations, Descriptor, ImageManifest } from "../oci/types.ts";
import { planLayers, type PlannedLayer } from "./layer_plan.ts";
import type { Target } from "../target.ts";
import {
  type DetectedFormat,
  type FormatKind,
  isAttestationEntry,
  REFERENCE_DIGEST_ANNOTATION,
} from "./detect.ts";
import { inspect, type Inspected } from "./inspect.ts";
import { selectFrom } from "./select.ts";
import { TITLE_ANNOTATION } from "../oci/annotations.ts";

/** One entry of an index. */
export interface PlatformEntry {
  /** `os/arch[/variant]`, or null when the entry names none. */
  platform: string | null;
  /** Digest of the entry's manifest. */
  digest: string;
  /** Media type of the entry's manifest. */
  mediaType: string;
  /** Size of the entry's manifest in bytes. */
  size: number;
  /** A buildx attestation manifest (never pulled). */
  attestation: boolean;
  /** For attestations: the digest of the image manifest it is about. */
  attestationFor: string | null;
  /** The entry's annotations (e.g. Garden Linux's `cname` telling flavours apart). */
  annotations: Annotations;
}

/** One layer and what pull does with it. */
export interface LayerSummary {
  /** Media type of the layer. */
  mediaType: string;
  /** Digest of the layer. */
  digest: string;
  /** Size of the layer in bytes. */
  size: number;
  /** The `org.opencontainers.image.title` annotation, or null. */
  title: string | null;
  /** `tar`, `unpack`, `file`, `skip`, or `refused` (pull would fail on it). */
  action: string;
  /** Why a layer is skipped or refused. */
  reason: string | null;
}

/** A single manifest. */
export interface ManifestSummary {
  /** Digest of the manifest. */
  digest: string;
  /** Media type of the manifest. */
  mediaType: string;
  /** What kind of content it is. */
  kind: FormatKind;
  /** Human-readable format name, e.g. `container image`. */
  format: string;
  /** Why: one line per fact that decided the format. */
  evidence: string[];
  /** The artifact type, or null. */
  artifactType: string | null;
  /** The config blob. */
  config: { mediaType: string; digest: string; size: number };
  /** The platform in the image config, or null (no image config, or empty os/architecture). */
  platform: string | null;
  /** The manifest's annotations. */
  annotations: Annotations;
  /** The layers and what pull does with each. */
  layers: LayerSummary[];
  /** Why the config was set aside (not a valid image config), or null. */
  configWarning: string | null;
}

/** What `describe` reports. */
export interface Description {
  /** Digest the reference resolved to. */
  digest: string;
  /** Media type of the manifest or index. */
  mediaType: string;
  /** Size of the manifest or index in bytes. */
  size: number;
  /** What kind of content it is. */
  kind: FormatKind;
  /** Human-readable format name, e.g. `multi-platform image`. */
  format: string;
  /** Why: one line per fact that decided the format. */
  evidence: string[];
  /** The artifact type, or null. */
  artifactType: string | null;
  /** The manifest's or index's annotations. */
  annotations: Annotations;
  /** How many manifests refer to this one (OCI 1.1 subject), by artifactType; set by `describe`. */
  referrers?: { count: number; types: Record<string, number> };
  /** Entries of an index; empty for a single manifest. */
  platforms: PlatformEntry[];
  /**
   * The manifest pull would use, and why; null when none matches.
   * `alsoMatching`: digests of other entries for the same platform (pull
   * takes the first and warns).
   */
  selected: {
    digest: string;
    platform: string | null;
    reason: string;
    alsoMatching: string[];
  } | null;
  /** Why nothing is selected (e.g. no entry for the platform). */
  selectionError: string | null;
  /** Details of the selected manifest. */
  manifest: ManifestSummary | null;
}

/**
 * Describe what `descriptor` points at in `target`; `platform` as `pull
 * --platform` would take it.
 *
 * @example
 * ```ts ignore
 * const d = await describe(target, await target.resolve("v1"));
 * console.log(d.format, d.evidence);
 * ```
 */
export async function describe(
  target: Target,
  descriptor: Descriptor,
  platform?: Platform,
  selector?: Selector,
): Promise<Description> {
  const top = await inspect(target, descriptor);
  const description: Description = {
    digest: descriptor.digest,
    mediaType: top.parsed.kind === "index"
      ? top.parsed.index.mediaType ?? descriptor.mediaType
      : top.parsed.manifest.mediaType ?? descriptor.mediaType,
    size: descriptor.size,
    kind: top.format.kind,
    format: top.format.label,
    evidence: top.format.evidence,
    artifactType: top.format.artifactType ?? null,
    annotations:
      (top.parsed.kind === "index"
        ? top.parsed.index.annotations
        : top.parsed.manifest.annotations) ?? {},
    platforms: top.parsed.kind === "index" ? top.parsed.index.manifests.map(entryOf) : [],
    selected: null,
    selectionError: null,
    manifest: null,
  };
  try {
    const selected = await selectFrom(target, top, platform, 0, selector);
    description.selected = {
      digest: selected.descriptor.digest,
      platform: selected.platform ? formatPlatform(selected.platform) : null,
      reason: selected.reason,
      alsoMatching: selected.ambiguity?.others.map((d) => d.digest) ?? [],
    };
    description.manifest = summarise({
      descriptor: selected.descriptor,
      bytes: selected.bytes,
      parsed: { kind: "manifest", manifest: selected.manifest },
      config: selected.config,
      format: selected.format,
      configWarning: selected.configWarning,
    });
  } catch (e) {
    if (!(e instanceof ArtifactError)) throw e;
    description.selectionError = e.message;
  }
  return description;
}

function entryOf(entry: Descriptor): PlatformEntry {
  const attestation = isAttestationEntry(entry);
  return {
    platform: entry.platform ? formatPlatform(entry.platform) : null,
    digest: entry.digest,
    mediaType: entry.mediaType,
    size: entry.size,
    attestation,
    attestationFor: attestation ? entry.annotations?.[REFERENCE_DIGEST_ANNOTATION] ?? null : null,
    annotations: entry.annotations ?? {},
  };
}

function summarise(inspected: Inspected): ManifestSummary {
  if (inspected.parsed.kind !== "manifest") throw new Error("expected a manifest");
  const manifest = inspected.parsed.manifest;
  const config = inspected.config;
  const whole = wholePlan(manifest, inspected.format);
  return {
    digest: inspected.descriptor.digest,
    mediaType: manifest.mediaType ?? inspected.descriptor.mediaType,
    kind: inspected.format.kind,
    format: inspected.format.label,
    evidence: inspected.format.evidence,
    artifactType: manifest.artifactType ?? null,
    config: {
      mediaType: manifest.config.mediaType,
      digest: manifest.config.digest,
      size: manifest.config.size,
    },
    platform: config?.os && config.architecture ? formatPlatform(config) : null,
    annotations: manifest.annotations ?? {},
    configWarning: inspected.configWarning ?? null,
    layers: manifest.layers.map((layer, i): LayerSummary => {
      const base = {
        mediaType: layer.mediaType,
        digest: layer.digest,
        size: layer.size,
        title: layer.annotations?.[TITLE_ANNOTATION] ?? null,
      };
      const shown = (planned: PlannedLayer): LayerSummary => ({
        ...base,
        title: planned.title ?? base.title,
        action: planned.action,
        reason: planned.reason ?? null,
      });
      if (whole.plan) return shown(whole.plan[i]);
      // A Helm chart's layers are planned together: what refuses one refuses all.
      if (inspected.format.kind === "helm-chart") {
        return { ...base, action: "refused", reason: whole.error!.message };
      }
      try {
        // Layer by layer, so that each refused one is named with its own reason.
        return shown(planLayers({ ...manifest, layers: [layer] }, inspected.format)[0]);
      } catch (e) {
        if (!(e instanceof ArtifactError)) throw e;
        return { ...base, action: "refused", reason: e.message };
      }
    }),
  };
}

/** The plan pull would make, or the error it would stop with. */
function wholePlan(
  manifest: ImageManifest,
  format: DetectedFormat,
): { plan?: PlannedLayer[]; error?: ArtifactError } {
  try {
    return { plan: planLayers(manifest, format) };
  } catch (e) {
    if (!(e instanceof ArtifactError)) throw e;
    return { error: e };
  }
}
