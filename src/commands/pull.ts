/**
 * `pull REF -o DIR`: write an image's files into a directory, atomically.
 *
 * @module
 */

import { Command, Option } from "commander";
import { formatPlatform, parsePlatform } from "../oci/platform.ts";
import { pull } from "../pull/pull.ts";
import { formatReference, parseReference, withDigest } from "../reference.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import { uiFor } from "../ui/ui_for.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";
import { DEFAULT_CONCURRENCY } from "../concurrency.ts";
import { collect, integerIn, parseSize, selectorOf } from "./options.ts";
import { formatBytes, formatDuration, progressFor } from "../ui/progress.ts";
import { withProgress } from "../ui/progress_target.ts";
import { escapeControl } from "../ui/escape.ts";
import { CacheSession } from "../cache/with_cache.ts";

interface PullOptions extends RegistryFlags {
  output: string;
  platform?: string;
  select?: string[];
  maxSize?: number;
  ociLayout: boolean;
  force: boolean;
  concurrency: number;
  cache: boolean;
}

/** The `pull` command. */
export function pullCommand(): Command {
  const command = new Command("pull")
    .description(
      "Pull an image or artifact into a directory. The directory is replaced only when the " +
        "pull succeeds.",
    )
    .argument("<reference>", "registry/repository[:tag|@digest], or oci:PATH[:tag|@digest]")
    .requiredOption("-o, --output <dir>", "directory to create or replace")
    .option("-p, --platform <os/arch[/variant]>", "platform to pull from a multi-platform index")
    .option(
      "-s, --select <key=value>",
      "choose the index entry by annotation (repeatable; all must match; index entry, then manifest)",
      collect,
    )
    .addOption(
      new Option("--max-size <size>", "refuse content larger than this, uncompressed (e.g. 10G)")
        .argParser(parseSize)
        .default(undefined, "32G"),
    )
    .option(
      "--force",
      "replace the output even if it holds files no earlier pull wrote",
      false,
    )
    .option("--oci-layout", "treat the reference as an OCI layout path", false)
    .option("--no-cache", "neither read nor fill the local content cache")
    .option(
      "--concurrency <n>",
      "layers downloaded at once (later layers are fetched while one is extracted)",
      integerIn(1, 64),
      DEFAULT_CONCURRENCY,
    );
  return addRegistryOptions(command)
    .action(async (reference: string, opts: PullOptions, command: Command) => {
      const ui = uiFor(command);
      const ref = parseReference(reference, { ociLayout: opts.ociLayout });
      const started = performance.now();
      const progress = progressFor(ui.options);
      const registry = await registryOptions(opts, ui);
      const warn = (m: string) => ui.warn(m);
      const cache = await CacheSession.open(opts.cache, warn);
      const target = withProgress(cache.wrap(await openTarget(ref, { registry })), progress);
      try {
        // A corrupt cache entry is only known once served: the pull is redone without it.
        const result = await cache.run(() =>
          pull(target, {
            output: opts.output,
            tagOrDigest: tagOrDigestOf(ref),
            platform: opts.platform ? parsePlatform(opts.platform) : undefined,
            select: selectorOf(opts),
            maxBytes: opts.maxSize,
            concurrency: opts.concurrency,
            force: opts.force,
            onWarning: (m) => ui.warn(m),
            onInfo: (m) => ui.info(m),
          })
        );
        const pulled = formatReference(withDigest(ref, result.resolved.digest));
        const size = result.layers.reduce((n, l) => n + l.size, 0);
        // The result line on stdout says "Pulled"; this one says what was taken and why
        // (the reason quotes the content, e.g. a Helm chart's name: escaped).
        progress.close(
          `${escapeControl(result.selected.reason)}; ${formatBytes(size)} in ${
            formatDuration((performance.now() - started) / 1000)
          }`,
        );
        const platform = result.selected.platform
          ? ` (${formatPlatform(result.selected.platform)})`
          : "";
        ui.result(
          {
            reference: pulled,
            digest: result.resolved.digest,
            mediaType: result.resolved.mediaType,
            manifest: result.selected.descriptor,
            platform: result.selected.platform ?? null,
            format: result.selected.format.kind,
            reason: result.selected.reason,
            layers: result.layers,
            output: result.output,
          },
          `Pulled ${pulled}${platform} into ${result.output}`,
        );
      } finally {
        progress.close();
        await target.close?.();
        // Evict after the pull, so this pull's layers are the most recently used.
        await cache.evict();
      }
    });
}
