/**
 * `copy SRC DST`: copy an image, index or artifact between registries and
 * OCI layouts with every digest unchanged.
 *
 * @module
 */

import { Command } from "commander";
import { copyGraph } from "../copy/copy.ts";
import type { Descriptor } from "../oci/types.ts";
import { copyReferrers } from "../referrers/copy_referrers.ts";
import { formatReference, parseReference, withDigest } from "../reference.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import { CacheSession } from "../cache/with_cache.ts";
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
  referrers: boolean;
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
    .option(
      "--referrers",
      "also copy what refers to it (SBOMs, signatures: OCI 1.1 subject), recursively",
      false,
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
      const cache = await CacheSession.open(opts.cache, warn);
      const from = cache.wrap(await openTarget(srcRef, { registry }));
      const rawTo = await openTarget(dstRef, { write: true, registry });
      const to = withProgress(rawTo, progress);
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
        const onNode = (d: Descriptor, outcome: string) => {
          if (outcome === "copied") bytes += d.size;
        };
        const referrers = opts.referrers
          ? await cache.run(() =>
            copyReferrers(from, result.descriptor, rawTo, {
              concurrency: opts.concurrency,
              onNode,
            })
          )
          : undefined;
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
            ...(referrers ? { referrers } : {}),
          },
          copied,
        );
      } finally {
        progress.close();
        await from.close?.();
        await to.close?.();
        await cache.evict();
      }
    });
}
