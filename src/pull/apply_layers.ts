/**
 * Streaming a manifest's layers from a target into a TreeWriter: each blob is
 * verified as it arrives, decompressed and parsed without being stored.
 *
 * @module
 */

import { decompress } from "../archive/decompress.ts";
import type { LayerOptions, TreeWriter } from "../archive/extract.ts";
import { TarParser } from "../archive/tar_reader.ts";
import { ArtifactError } from "../errors.ts";
import { layerKind } from "../oci/media_types.ts";
import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";

/** Annotation oras and the OCI spec use for a layer's file name. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";

/**
 * Apply one tar layer (any supported compression) from `target` to `writer`.
 *
 * @example
 * ```ts ignore
 * await applyTarLayer(target, layerDescriptor, writer);
 * ```
 */
export async function applyTarLayer(
  target: Target,
  layer: Descriptor,
  writer: TreeWriter,
  options: LayerOptions = {},
): Promise<void> {
  const kind = layerKind(layer.mediaType);
  if (!kind.tar) {
    throw new ArtifactError(`layer ${layer.digest} (${layer.mediaType}) is not a tar layer`);
  }
  const blob = await target.fetchBlob(layer);
  const parser = new TarParser(writer.beginLayer({ label: shortDigest(layer.digest), ...options }));
  for await (const chunk of decompress(blob, kind.compression)) parser.write(chunk);
  parser.finish();
}

/** `sha256:abcdef012345` for messages. */
export function shortDigest(digest: string): string {
  return digest.slice(0, digest.indexOf(":") + 13);
}
