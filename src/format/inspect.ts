/**
 * Fetching what the detector needs: a manifest's exact bytes, the parsed
 * document, and for image manifests the image config.
 *
 * @module
 */

import { ParseError } from "../errors.ts";
import { HELM, isImageConfigMediaType } from "../oci/media_types.ts";
import { parseImageConfig, parseManifest } from "../oci/parse.ts";
import { LIMITS } from "../oci/limits.ts";
import type { Descriptor, ImageConfig, ParsedManifest } from "../oci/types.ts";
import { readAll, type Target } from "../target.ts";
import {
  type ConfigFacts,
  type DetectedFormat,
  detectIndexFormat,
  detectManifestFormat,
} from "./detect.ts";
import { readHelmConfig } from "./helm.ts";

/** A fetched and classified manifest or index. */
export interface Inspected {
  /** The descriptor the reference resolved to. */
  descriptor: Descriptor;
  /** Exact bytes as stored. */
  bytes: Uint8Array;
  /** The parsed manifest or index. */
  parsed: ParsedManifest;
  /** The image config, for manifests whose config is an image config. */
  config?: ImageConfig;
  /** What the detector made of it. */
  format: DetectedFormat;
  /**
   * Set when the config claims to be an image config but is not a valid one
   * (the Go artifact-cli writes `{}`): pull warns once and applies the layers
   * anyway; only the config's size limit and digest stay strict.
   */
  configWarning?: string;
}

/**
 * Fetch and classify the manifest or index `descriptor` points at.
 *
 * @example
 * ```ts ignore
 * const inspected = await inspect(target, await target.resolve("v1"));
 * console.log(inspected.format.label, inspected.format.evidence);
 * ```
 */
export async function inspect(target: Target, descriptor: Descriptor): Promise<Inspected> {
  const bytes = await target.fetchManifest(descriptor);
  const parsed = parseManifest(bytes, descriptor.mediaType);
  if (parsed.kind === "index") {
    return { descriptor, bytes, parsed, format: detectIndexFormat(parsed.index) };
  }
  const configDescriptor = parsed.manifest.config;
  let config: ImageConfig | undefined;
  let configWarning: string | undefined;
  const facts: ConfigFacts = {};
  if (configDescriptor.mediaType === HELM.config) {
    // The chart's name and version name the file pull writes.
    const helm = readHelmConfig(await readConfig(target, configDescriptor, "Helm config"));
    if ("chart" in helm) facts.chart = helm.chart;
    else facts.chartProblem = helm.problem;
  } else if (isImageConfigMediaType(configDescriptor.mediaType)) {
    const configBytes = await readConfig(target, configDescriptor, "image config");
    try {
      config = parseImageConfig(configBytes);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      configWarning = `config ${
        configDescriptor.digest.slice(0, 19)
      } is not a valid image config (${e.message}); applying the layers without it`;
      facts.configShape = configBytes.byteLength <= 64
        ? new TextDecoder().decode(configBytes).trim()
        : undefined;
    }
  }
  const inspected: Inspected = {
    descriptor,
    bytes,
    parsed,
    config,
    format: detectManifestFormat(parsed.manifest, config, facts),
  };
  if (configWarning) inspected.configWarning = configWarning;
  return inspected;
}

/** A config's bytes, refused before download when its size is over LIMITS.configBytes. */
async function readConfig(
  target: Target,
  descriptor: Descriptor,
  what: string,
): Promise<Uint8Array> {
  if (descriptor.size > LIMITS.configBytes) {
    throw new ParseError(
      `${what} is ${descriptor.size} bytes, over the ${LIMITS.configBytes}-byte limit`,
      "config.size",
    );
  }
  // Bounded while read too, whatever the target checks against the descriptor.
  return await readAll(await target.fetchBlob(descriptor), { bytes: LIMITS.configBytes, what });
}
