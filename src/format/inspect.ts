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
  if (isImageConfigMediaType(configDescriptor.mediaType)) {
    if (configDescriptor.size > LIMITS.configBytes) {
      throw new ParseError(
        `image config is ${configDescriptor.size} bytes, over the ${LIMITS.configBytes}-byte limit`,
        "config.size",
      );
    }
    config = parseImageConfig(await readAll(await target.fetchBlob(configDescriptor)));
  }
  return {
    descriptor,
    bytes,
    parsed,
    config,
    format: detectManifestFormat(parsed.manifest, config),
  };
}
