/**
 * Fetching what the detector needs: a manifest's exact bytes, the parsed
 * document, and for image manifests the image config.
 *
 * @module
 */

import { ParseError } from "../errors.ts";
import { isImageConfigMediaType } from "../oci/media_types.ts";
import { parseImageConfig, parseManifest } from "../oci/parse.ts";
import { LIMITS } from "../oci/limits.ts";
import type { Descriptor, ImageConfig, ParsedManifest } from "../oci/types.ts";
import { readAll, type Target } from "../target.ts";
import { type DetectedFormat, detectIndexFormat, detectManifestFormat } from "./detect.ts";

/** A fetched and classified manifest or index. */
export interface Inspected {
  descriptor: Descriptor;
  /** Exact bytes as stored. */
  bytes: Uint8Array;
  parsed: ParsedManifest;
  /** The image config, for manifests whose config is an image config. */
  config?: ImageConfig;
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
  let configShape: string | undefined;
  if (isImageConfigMediaType(configDescriptor.mediaType)) {
    if (configDescriptor.size > LIMITS.configBytes) {
      throw new ParseError(
        `image config is ${configDescriptor.size} bytes, over the ${LIMITS.configBytes}-byte limit`,
        "config.size",
      );
    }
    const configBytes = await readAll(await target.fetchBlob(configDescriptor));
    try {
      config = parseImageConfig(configBytes);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      configWarning = `config ${
        configDescriptor.digest.slice(0, 19)
      } is not a valid image config (${e.message}); applying the layers without it`;
      configShape = configBytes.byteLength <= 64
        ? new TextDecoder().decode(configBytes).trim()
        : undefined;
    }
  }
  const inspected: Inspected = {
    descriptor,
    bytes,
    parsed,
    config,
    format: detectManifestFormat(parsed.manifest, config, { configShape }),
  };
  if (configWarning) inspected.configWarning = configWarning;
  return inspected;
}
