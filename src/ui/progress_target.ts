/**
 * A Target decorator that reports blob transfers on a Progress, so push,
 * pull and copy show bars without knowing about progress at all.
 *
 * @module
 */

import type { Descriptor } from "../oci/types.ts";
import { type BlobSource, delegateTarget, type Target } from "../target.ts";
import { observeBytes } from "../byte_streams.ts";
import { countBytes, NO_PROGRESS, type Progress } from "./progress.ts";

/** The digest, and the file name of a titled layer (a terminal shows a short digest). */
function label(descriptor: Descriptor): string {
  const title = descriptor.annotations?.["org.opencontainers.image.title"];
  return title ? `${descriptor.digest} ${title}` : descriptor.digest;
}

/**
 * Wrap `target` so that blob uploads and downloads appear on `progress`.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { createProgress } from "./progress.ts";
 * import { withProgress } from "./progress_target.ts";
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const target = withProgress(layout, createProgress({ enabled: false }));
 * console.assert(target.name === layout.name);
 * ```
 */
export function withProgress(target: Target, progress: Progress): Target {
  // Nothing to draw: leave the target alone. Counting bytes means reading them
  // in JavaScript, which costs an upload its zero-copy path (a file body is
  // sent by Deno's fetch straight from the file) and up to ~64 MiB of chunks.
  if (progress === NO_PROGRESS) return target;
  return delegateTarget(target, {
    async fetchBlob(descriptor) {
      const task = progress.task(label(descriptor), descriptor.size);
      const stream = await target.fetchBlob(descriptor);
      return observeBytes(stream, {
        chunk: (view) => task.add(view.byteLength),
        end: () => task.done(),
      });
    },
    async exists(descriptor) {
      const found = await target.exists(descriptor);
      if (found) progress.task(label(descriptor), descriptor.size).done("already present");
      return found;
    },
    async pushBlob(descriptor, source: BlobSource) {
      const task = progress.task(label(descriptor), descriptor.size);
      let sent = 0;
      const counted: BlobSource = {
        size: source.size,
        path: source.path,
        mountFrom: source.mountFrom,
        verified: source.verified,
        open: async () => {
          // A retried upload starts again from zero.
          task.add(-sent);
          sent = 0;
          return countBytes(await source.open(), {
            add: (n) => {
              sent += n;
              task.add(n);
            },
            done: () => {},
          });
        },
      };
      await target.pushBlob(descriptor, counted);
      task.done();
    },
  });
}
