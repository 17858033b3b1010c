/**
 * `copy SRC DST`: copy an image, index or artifact between registries and
 * OCI layouts with every digest unchanged.
 *
 * @module
 */

import { Command } from "commander";
import { copyGraph } from "../copy/copy.ts";
import { formatReference, parseReference, withDigest } from "../reference.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import { CacheSession, openCache } from "../cache/with_cache.ts";
import { uiFor } from "../ui/ui_for.ts";
import { formatBytes, formatDuration, progressFor } from "../ui/progress.ts";
import { withProgress } from "../ui/progress_target.ts";
import { collect, integerIn, selectorOf } from "./options.ts";
import { selectManifest } from "../format/select.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";

interface CopyOptions extends RegistryFlags {
  concurrency: number;
  select?: string[];
  cache: boolean;
}

/** The `copy` command. */
export function copyCommand(): Command {
  return addRegistryOptions(new Command("copy"))
    .alias("cp")
    .description(
      "Copy an image, multi-platform index (all platforms and attestations) or artifact from one " +
        "registry or OCI layout to another, keeping every digest. Blobs the destination has are skipped.",
    )
    .argument("<source>", "registry/repository[:tag|@digest] or oci:PATH[:tag|@digest]")
    .argument(
      "<destination>",
      "registry/repository[:tag] or oci:PATH[:tag]; tag defaults to the source's",
    )
    .option("--concurrency <n>", "requests (manifests and blobs) at once", integerIn(1, 64), 4)
    .option("--no-cache", "neither read nor fill the local content cache")
    .option(
      "-s, --select <key=value>",
      "copy only the index entry with these annotations (repeatable; all must match)",
      collect,
    )
    .action(async (source: string, destination: string, opts: CopyOptions, command: Command) => {
      const ui = uiFor(command);
      const started = performance.now();
      const srcRef = parseReference(source);
      const dstRef = parseReference(destination, { defaultTag: srcRef.tag ?? "latest" });
      const tag = dstRef.tag ?? (dstRef.digest ? undefined : srcRef.tag);
      const progress = progressFor(ui.options);
      const registry = await registryOptions(opts, ui);
      const warn = (m: string) => ui.warn(m);
      const cache = new CacheSession(opts.cache ? await openCache(warn) : undefined, warn);
      const from = cache.wrap(await openTarget(srcRef, { registry }));
      const to = withProgress(await openTarget(dstRef, { write: true, registry }), progress);
      let bytes = 0;
      try {
        const selector = selectorOf(opts);
        const start = selector
          ? (await selectManifest(
            from,
            await from.resolve(tagOrDigestOf(srcRef)),
            undefined,
            selector,
          ))
            .descriptor.digest
          : tagOrDigestOf(srcRef);
        // A corrupt cache entry is only known once sent: the copy is redone without it
        // (blobs the destination already holds are skipped).
        const result = await cache.run(() =>
          copyGraph(from, start, to, tag, {
            concurrency: opts.concurrency,
            onNode: (d, outcome) => {
              if (outcome === "copied") bytes += d.size;
              if (outcome === "foreign") ui.warn(`not copying foreign layer ${d.digest}`);
            },
          })
        );
        const copied = formatReference(withDigest(dstRef, result.descriptor.digest));
        progress.close(
          `Copied ${copied} (${formatBytes(bytes)} sent in ${
            formatDuration((performance.now() - started) / 1000)
          })`,
        );
        ui.result(
          {
            source: formatReference(withDigest(srcRef, result.descriptor.digest)),
            reference: copied,
            tag: tag ?? null,
            digest: result.descriptor.digest,
            mediaType: result.descriptor.mediaType,
            size: result.descriptor.size,
            nodes: result.nodes,
          },
          copied,
        );
      } finally {
        progress.close();
        await from.close?.();
        await to.close?.();
        await cache.store?.prune().catch(() => {});
      }
    });
}
