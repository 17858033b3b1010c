/**
 * `push REF [PATH...]`: pack directories and files into an image and push it.
 *
 * @module
 */

import { Command, Option } from "commander";
import { defaultCompressionWorkers } from "../archive/compress_pool.ts";
import { DEFAULT_CONCURRENCY } from "../concurrency.ts";
import { UsageError } from "../errors.ts";
import type { LayerCompression } from "../oci/media_types.ts";
import { pushTree } from "../push/push_tree.ts";
import { formatReference, parseReference, withDigest } from "../reference.ts";
import { openTarget } from "../targets.ts";
import { uiFor } from "../ui/ui_for.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";
import { collect, integerIn, parseAnnotations } from "./options.ts";
import { checkArgumentOrder, checkPushInputs } from "./push_inputs.ts";
import {
  addPushModeOptions,
  type CommonPushOptions,
  planPush,
  pushedBytes,
  type PushModeOptions,
  pushPlanned,
  type PushSummary,
  readAnnotationFile,
  uploadSummary,
} from "./push_modes.ts";
import { formatBytes, formatDuration, progressFor } from "../ui/progress.ts";
import { withProgress } from "../ui/progress_target.ts";
import { attachReferrer } from "../referrers/attach.ts";
import { referrerDescriptor } from "../referrers/discover.ts";
import { resolveSubject } from "../referrers/subject.ts";
import { parseJsonObject } from "../oci/parse.ts";
import { LIMITS } from "../oci/limits.ts";

async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

interface PushOptions extends PushModeOptions, RegistryFlags {
  folder?: string[];
  file?: string[];
  subject?: string;
  exclude?: string[];
  includeGit: boolean;
  compression: LayerCompression;
  compressionLevel?: number;
  annotation?: string[];
  ociLayout: boolean;
  compressionWorkers?: number;
  concurrency: number;
}

/** The `push` command. */
export function pushCommand(): Command {
  const command = new Command("push")
    .description(
      "Push directories and files as an OCI image. A directory's contents go to the root of the " +
        "layer; a file goes there under its own name.",
    )
    .argument("<reference>", "registry/repository[:tag], or oci:PATH[:tag] for an OCI layout")
    .argument("[paths...]", "directories and files to push")
    .option(
      "-f, --folder <path>",
      "directory or file to push (repeatable; same as --file)",
      collect,
    )
    .option("--file <path>", "directory or file to push (repeatable, imgpkg style)", collect)
    .option("--exclude <glob>", "leave out matching paths (repeatable; .gitignore-like)", collect)
    .option("--include-git", "keep .git directories (left out by default)", false)
    .addOption(
      new Option("--compression <algorithm>", "layer compression")
        .choices(["gzip", "zstd", "none"])
        .default("gzip"),
    )
    .addOption(
      new Option("--compression-level <n>", "gzip 1-9 or zstd 1-19")
        .argParser(integerIn(1, 19))
        .default(undefined, "6 for gzip, 3 for zstd"),
    )
    .option(
      "--compression-workers <n>",
      `most threads compressing the layer (default: one per core, ${defaultCompressionWorkers()} here; ` +
        "a tree starts one per 64 MiB up to this; 0 compresses on the main thread); " +
        "the output is the same for any number",
      integerIn(0, 256),
    )
    .option(
      "--concurrency <n>",
      "blobs and manifests transferred at once",
      integerIn(1, 64),
      DEFAULT_CONCURRENCY,
    )
    .option("-a, --annotation <key=value>", "manifest annotation (repeatable)", collect)
    .option(
      "--subject <reference>",
      "attach what is pushed to this manifest (OCI 1.1 subject: an SBOM, a signature); " +
        "a digest or a reference in the same repository or layout",
    )
    .option("--oci-layout", "treat the reference as an OCI layout path", false);
  return addRegistryOptions(addPushModeOptions(command))
    .action(async (reference: string, paths: string[], opts: PushOptions, command: Command) => {
      const ui = uiFor(command);
      const inputs = [...paths, ...(opts.folder ?? []), ...(opts.file ?? [])];
      if (opts.compression === "gzip" && (opts.compressionLevel ?? 1) > 9) {
        throw new UsageError("gzip compression levels are 1 to 9");
      }
      checkArgumentOrder(reference, inputs);
      const ref = parseReference(reference, { ociLayout: opts.ociLayout });
      const annotationFile = opts.annotationFile
        ? await readAnnotationFile(opts.annotationFile)
        : {};
      const plan = planPush(inputs, opts, parseAnnotations(opts.annotation), annotationFile);
      checkPushInputs(plan, inputs);
      const started = performance.now();
      const progress = progressFor(ui.options);
      const registry = await registryOptions(opts, ui);
      const newLayout = ref.kind === "layout" && !(await pathExists(ref.path));
      const raw = await openTarget(ref, { write: true, registry });
      const target = withProgress(raw, progress);
      let pushedOk = false;
      try {
        const tag = ref.tag ?? (ref.digest ? undefined : "latest");
        const subject = opts.subject ? await resolveSubject(ref, opts.subject, raw) : undefined;
        const common: CommonPushOptions = {
          subject,
          tag,
          exclude: opts.exclude,
          includeGit: opts.includeGit,
          compression: opts.compression,
          level: opts.compressionLevel,
          compressionWorkers: opts.compressionWorkers,
          concurrency: opts.concurrency,
          onWarning: (m) => ui.warn(m),
          progress,
        };
        const result: PushSummary = await pushPlanned(target, plan, common) ??
          await pushTree(target, { inputs, annotations: plan.annotations, ...common });
        if (subject) {
          // The manifest's own artifactType and annotations go into the referrers index.
          const doc = parseJsonObject(
            await raw.fetchManifest(result.descriptor),
            "the pushed manifest",
            LIMITS.manifestBytes,
          );
          const via = await attachReferrer(
            raw,
            subject,
            referrerDescriptor(result.descriptor, doc),
          );
          ui.debug(`referrer of ${subject.digest} recorded via ${via}`);
        }
        const stats = result.compression;
        if (stats) {
          ui.debug(
            `compression: ${stats.blocksInWorkers} blocks in ${stats.workersStarted} workers, ` +
              `${stats.blocksInline} on the main thread, ${stats.workersFailed} workers failed to start`,
          );
        }
        const pushed = formatReference(withDigest(ref, result.descriptor.digest));
        const size = pushedBytes(result);
        progress.close(
          `Pushed ${pushed} (${formatBytes(size)} in ${
            formatDuration((performance.now() - started) / 1000)
          }; ${uploadSummary(result, formatBytes)})`,
        );
        ui.result(
          {
            reference: pushed,
            tag: tag ?? null,
            digest: result.descriptor.digest,
            mediaType: result.descriptor.mediaType,
            size: result.descriptor.size,
            config: result.config ?? null,
            layers: result.layers,
            ...(result.manifests ? { manifests: result.manifests } : {}),
            blobs: result.blobs,
            ...(subject ? { subject } : {}),
          },
          pushed,
        );
        pushedOk = true;
      } finally {
        progress.close();
        await target.close?.();
        // A layout this push created holds nothing but what the push wrote.
        if (newLayout && !pushedOk) {
          await Deno.remove(ref.path, { recursive: true }).catch(() => {});
        }
      }
    });
}
