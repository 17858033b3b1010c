/**
 * Streaming a manifest's layers from a target into a TreeWriter: each blob is
 * verified as it arrives, decompressed and parsed without being stored.
 *
 * @module
 */

import { decompressTo } from "../archive/decompress.ts";
import type { LayerOptions, TreeWriter } from "../archive/extract.ts";
import { TarParser, type TarSink } from "../archive/tar_reader.ts";
import { ArtifactError } from "../errors.ts";
import { type LayerCompression, layerKind } from "../oci/media_types.ts";
import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { pausePoint } from "../pause_point.ts";

/** Compressed size from which a layer is inflated on a worker thread. */
export const INFLATE_WORKER_MIN_BYTES = 4 * 1024 * 1024;

/** Options for {@link applyTarLayer}. */
export interface ApplyTarOptions extends LayerOptions {
  /** Compression to assume instead of the media type's (oras unpack layers). */
  compression?: LayerCompression;
  /** Wraps the writer's sink, e.g. to check every entry before it is written. */
  filter?: (sink: TarSink) => TarSink;
}

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
  options: ApplyTarOptions = {},
): Promise<void> {
  const { compression: override, filter, ...layerOptions } = options;
  const kind = layerKind(layer.mediaType);
  if (!kind.tar && !override) {
    throw new ArtifactError(`layer ${layer.digest} (${layer.mediaType}) is not a tar layer`);
  }
  const compression = override ?? kind.compression;
  const blob = await target.fetchBlob(layer);
  const sink = writer.beginLayer({ label: shortDigest(layer.digest), ...layerOptions });
  const parser = new TarParser(filter ? filter(sink) : sink);
  let paused = false;
  await decompressTo(
    blob,
    compression,
    // The parser consumes each piece on the spot, so the decoder reuses one buffer.
    // Whatever follows the end-of-archive marker is never an entry: decoding
    // stops there (it may be a bomb) while the rest of the blob is still read,
    // so that its digest is verified.
    (chunk) => {
      parser.write(chunk);
      return !parser.ended;
    },
    {
      worker: layer.size >= INFLATE_WORKER_MIN_BYTES,
      onInput: async () => {
        if (paused) return;
        paused = true;
        await pausePoint("extract");
      },
    },
  );
  parser.finish();
}

/** `sha256:abcdef012345` for messages. */
export function shortDigest(digest: string): string {
  return digest.slice(0, digest.indexOf(":") + 13);
}
