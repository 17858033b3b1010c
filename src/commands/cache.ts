/**
 * `cache info` and `cache prune`: look at and trim the local content cache.
 *
 * @module
 */

import { Command } from "commander";
import { ContentStore } from "../cache/content_store.ts";
import { cacheSettings } from "../cache/settings.ts";
import { UsageError } from "../errors.ts";
import { formatBytes } from "../ui/progress.ts";
import { uiFor } from "../ui/ui_for.ts";

async function openStore(): Promise<ContentStore> {
  const settings = cacheSettings();
  if (!settings.dir) {
    throw new UsageError(
      "the content cache is off (ARTIFACT_CLI_CACHE_DIR is empty or off, or ARTIFACT_CLI_CACHE_MAX_BYTES is 0)",
    );
  }
  return await ContentStore.open(settings.dir, settings.maxBytes);
}

/** The `cache` command, with `info` and `prune`. */
export function cacheCommand(): Command {
  const cache = new Command("cache").description(
    "Show or trim the local content cache (blobs by digest, so unchanged content is not " +
      "downloaded again).",
  );
  cache.addCommand(
    new Command("info")
      .description("Show the cache's directory, entries, size and cap.")
      .action(async (_opts: unknown, command: Command) => {
        const ui = uiFor(command);
        const info = await (await openStore()).info();
        ui.result(
          info,
          `${info.dir}: ${info.entries} entries, ${formatBytes(info.bytes)} of ${
            formatBytes(info.maxBytes)
          }`,
        );
      }),
  );
  cache.addCommand(
    new Command("prune")
      .description("Remove least recently used entries down to the cap, or all with --all.")
      .option("--all", "remove every entry", false)
      .action(async (opts: { all: boolean }, command: Command) => {
        const ui = uiFor(command);
        const store = await openStore();
        const removed = await store.prune(opts.all ? 0 : store.maxBytes);
        ui.result(
          { dir: store.dir, removedEntries: removed.entries, removedBytes: removed.bytes },
          `Removed ${removed.entries} entries (${formatBytes(removed.bytes)}) from ${store.dir}`,
        );
      }),
  );
  return cache;
}
