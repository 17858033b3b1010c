/**
 * `sync -c FILE`: pull the artifacts a config lists into directories, with
 * filters, and pin their digests in a lock file (the vendir role).
 *
 * @module
 */

import { Command } from "commander";
import { dirname, resolve } from "node:path";
import { writeFileAtomic } from "../layout/atomic.ts";
import { formatSyncLock, parseSyncConfig, parseSyncLock, type SyncLock } from "../sync/config.ts";
import { lockFor, sync } from "../sync/sync.ts";
import { uiFor } from "../ui/ui_for.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";
import { openTarget } from "../targets.ts";
import { CacheSession } from "../cache/with_cache.ts";
import { NAMED_FILE_LIMITS, readNamedTextFile } from "../fs/named_file.ts";
import { NotFoundError, UsageError } from "../errors.ts";

interface SyncOptions extends RegistryFlags {
  config: string;
  output?: string;
  lockFile?: string;
  updateLock: boolean;
  force: boolean;
  cache: boolean;
}

/** The `sync` command. */
export function syncCommand(): Command {
  return addRegistryOptions(new Command("sync"))
    .description(
      "Pull every artifact listed in a config file into its directory (each replaced atomically), " +
        "filtered by includePaths/excludePaths and re-rooted by newRootPath.",
    )
    .requiredOption("-c, --config <file>", "YAML or JSON file listing the artifacts")
    .option(
      "-o, --output <dir>",
      "base directory for the artifacts' paths (default: the config's destination, or .)",
    )
    .option(
      "--lock-file <file>",
      "pin digests: pull the digests recorded here (when it exists) and record what was pulled",
    )
    .option("--update-lock", "resolve tags again even when the lock file has digests", false)
    .option("--no-cache", "neither read nor fill the local content cache")
    .option(
      "--force",
      "replace artifact directories even if they hold files no earlier pull or sync wrote",
      false,
    )
    .action(async (opts: SyncOptions, command: Command) => {
      const ui = uiFor(command);
      const text = await readNamedTextFile(opts.config, {
        source: "sync -c",
        maxBytes: NAMED_FILE_LIMITS.syncConfig,
        role: "usage",
        optional: true,
      });
      if (text === undefined) throw new NotFoundError(`config file ${opts.config} does not exist`);
      const config = parseSyncConfig(text, opts.config);
      const destination = resolve(
        opts.output ??
          (config.destination ? resolve(dirname(opts.config), config.destination) : "."),
      );
      let lock: SyncLock | undefined;
      if (opts.lockFile && !opts.updateLock) {
        const lockText = await readNamedTextFile(opts.lockFile, {
          source: "--lock-file",
          maxBytes: NAMED_FILE_LIMITS.syncConfig,
          role: "usage",
          optional: true,
        });
        if (lockText !== undefined) lock = parseSyncLock(lockText, opts.lockFile);
      }
      const registry = await registryOptions(opts, ui);
      config.artifacts.forEach((artifact, i) => {
        if (artifact.insecure && !registry.insecure && !registry.plainHttp) {
          // Content is data: a config alone cannot lower TLS checks.
          throw new UsageError(
            `${opts.config}: artifacts[${i}].image.insecure is true: give --insecure (skip TLS ` +
              `verification) or --plain-http on the command line to allow it`,
          );
        }
      });
      const warn = (m: string) => ui.warn(m);
      const cache = await CacheSession.open(opts.cache, warn);
      const results = await sync(config, {
        destination,
        lock,
        force: opts.force,
        protectedFiles: [opts.config, ...opts.lockFile ? [opts.lockFile] : []],
        open: async (artifact) =>
          cache.wrap(
            await openTarget(artifact.reference, {
              registry: artifact.credentials
                ? { ...registry, credentials: { ...artifact.credentials, source: "sync config" } }
                : registry,
            }),
          ),
        // A corrupt cache entry is only known once served: that artifact's pull is redone.
        attempt: (work) => cache.run(work),
        onWarning: (m) => ui.warn(m),
      });
      await cache.evict();
      if (opts.lockFile) {
        await writeFileAtomic(
          opts.lockFile,
          new TextEncoder().encode(formatSyncLock(lockFor(results))),
        );
      }
      ui.result(
        { destination, lockFile: opts.lockFile ?? null, artifacts: results },
        results.map((r) => `${r.path}: ${r.image}@${r.digest} (${r.files} files)`).join("\n"),
      );
    });
}
