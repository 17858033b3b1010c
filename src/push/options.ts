/**
 * Options every kind of push shares (tree, platforms, artifact).
 *
 * @module
 */

import type { LayerCompression } from "../oci/media_types.ts";
import type { Progress } from "../ui/progress.ts";

/** How layers are built and blobs sent, whatever is pushed. */
export interface LayerPushOptions {
  /** Tag for the pushed manifest or index. */
  tag?: string;
  /** Globs of paths to leave out of tree layers. */
  exclude?: string[];
  /** Keep `.git` directories. */
  includeGit?: boolean;
  /** Layer compression (default gzip). */
  compression?: LayerCompression;
  /** Compression level for the chosen compression. */
  level?: number;
  /** Threads compressing blocks (default: one per core; 0 compresses on this thread). */
  compressionWorkers?: number;
  /** Blobs transferred at once (default 4). */
  concurrency?: number;
  /** Receives warnings (one line each). */
  onWarning?: (message: string) => void;
  /** Where packing shows its progress (uploads show theirs through the target). */
  progress?: Progress;
}
