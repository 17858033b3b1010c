/**
 * The three shapes `push` writes, and how the command line picks one:
 *
 * - a tree (imgpkg style, the default): all inputs in one tar layer;
 * - platforms (`--platform`): an OCI index of one image per platform;
 * - an artifact (oras style): one layer per argument, chosen when
 *   `--artifact-type` or `--config` is given or any argument carries a
 *   `:mediaType` suffix (`spec.yaml:text/yaml`).
 *
 * @module
 */

import type { LayerPushOptions } from "../push/options.ts";
import { type Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../errors.ts";
import { parseJsonObject } from "../oci/parse.ts";
import { NAMED_FILE_LIMITS, readNamedFile } from "../fs/named_file.ts";
import type { Annotations, Descriptor } from "../oci/types.ts";
import { type ArtifactInput, MANIFEST_KEY, pushArtifact } from "../push/push_artifact.ts";
import { parsePlatformTrees, type PlatformTree, pushPlatforms } from "../push/push_platforms.ts";
import type { PoolStats } from "../archive/compress_pool.ts";
import type { Target } from "../target.ts";
import { collect } from "./options.ts";

/** Options this module adds to `push`. */
export interface PushModeOptions {
  platform?: string[];
  /** The Go artifact-cli's spelling of --platform. */
  platforms?: string[];
  artifactType?: string;
  config?: string;
  annotationFile?: string;
}

/** What the command needs from any push. */
export interface PushSummary {
  descriptor: Descriptor;
  config?: Descriptor;
  layers: Descriptor[];
  blobs: Record<string, string>;
  manifests?: { platform: unknown; descriptor: Descriptor; config: Descriptor }[];
  /** Where layer blocks were compressed (for --debug). */
  compression?: PoolStats;
}

/** Options shared with tree pushes. */
export interface CommonPushOptions extends LayerPushOptions {
  onWarning: (message: string) => void;
  /** `--subject`: the manifest the pushed one refers to. */
  subject?: Descriptor;
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/;

/** Add `--platform`, `--artifact-type`, `--config` and `--annotation-file` to `command`. */
export function addPushModeOptions(command: Command): Command {
  return command
    .option(
      "-p, --platform <os/arch[=DIR]>",
      "push an index with one image per platform: os/arch[,os/arch...] shares the paths; " +
        "os/arch=DIR (repeatable) gives each platform its own tree",
      collect,
    )
    .addOption(new Option("--platforms <os/arch,...>").argParser(collect).hideHelp())
    .option(
      "--artifact-type <mediaType>",
      "push an OCI artifact of this type (one layer per file, oras style)",
      mediaTypeOption,
    )
    .option("--config <file[:mediaType]>", "config blob of an OCI artifact (oras style)")
    .option(
      "--annotation-file <file>",
      'JSON annotations as oras reads them: {"$manifest": {...}, "$config": {...}, "<file>": {...}}',
    );
}

/**
 * Split `path[:mediaType]`. An argument that exists as a path is a path,
 * colons and all; otherwise the part after the last colon must be a media type.
 */
export function splitMediaType(argument: string): ArtifactInput {
  const colon = argument.lastIndexOf(":");
  if (colon <= 0 || exists(argument)) return { path: argument };
  const mediaType = argument.slice(colon + 1);
  if (!MEDIA_TYPE.test(mediaType)) return { path: argument };
  return { path: argument.slice(0, colon), mediaType };
}

/** The validated shape of a push, decided before anything is written. */
export type PushPlan =
  | { kind: "tree"; annotations: Annotations }
  | { kind: "platforms"; annotations: Annotations; trees: PlatformTree[] }
  | {
    kind: "artifact";
    annotations: Annotations;
    files: ArtifactInput[];
    artifactType?: string;
    config?: ArtifactInput;
    fileAnnotations: Record<string, Annotations>;
  };

/**
 * Decide (and validate) what to push from the arguments: `annotations` are
 * the `--annotation` flags, which win over the annotation file's `$manifest`.
 */
export function planPush(
  inputs: string[],
  opts: PushModeOptions,
  annotations: Annotations,
  annotationFile: Record<string, Annotations> = {},
): PushPlan {
  if (opts.platforms) opts = { ...opts, platform: [...opts.platform ?? [], ...opts.platforms] };
  const fileAnnotations = { ...annotationFile };
  const merged = { ...fileAnnotations[MANIFEST_KEY], ...annotations };
  delete fileAnnotations[MANIFEST_KEY];
  const args = inputs.map(splitMediaType);
  const artifact = opts.artifactType !== undefined || opts.config !== undefined ||
    args.some((a) => a.mediaType !== undefined);
  if (artifact) {
    if (opts.platform) {
      throw new UsageError("--platform pushes images; it cannot be combined with artifact options");
    }
    if (args.length === 0 && !opts.config) {
      throw new UsageError("nothing to push: give files, directories or --config");
    }
    return {
      kind: "artifact",
      annotations: merged,
      files: args,
      artifactType: opts.artifactType,
      config: opts.config ? splitMediaType(opts.config) : undefined,
      fileAnnotations,
    };
  }
  const extraKeys = Object.keys(fileAnnotations);
  if (extraKeys.length) {
    throw new UsageError(
      `--annotation-file: ${
        extraKeys.map((k) => JSON.stringify(k)).join(", ")
      } only apply to per-file artifacts; a tree push takes "${MANIFEST_KEY}" only`,
    );
  }
  if (opts.platform) {
    return {
      kind: "platforms",
      annotations: merged,
      trees: parsePlatformTrees(opts.platform, inputs),
    };
  }
  if (inputs.length === 0) throw new UsageError("nothing to push: give a directory or file");
  return { kind: "tree", annotations: merged };
}

/**
 * Push a platforms or artifact plan; undefined for a tree plan, which the
 * caller pushes itself (with `plan.annotations`).
 */
export async function pushPlanned(
  target: Target,
  plan: PushPlan,
  common: CommonPushOptions,
): Promise<PushSummary | undefined> {
  switch (plan.kind) {
    case "tree":
      return undefined;
    case "platforms":
      if (common.subject) {
        throw new UsageError("--subject applies to artifact and tree pushes, not --platform");
      }
      return await pushPlatforms(target, {
        ...common,
        trees: plan.trees,
        annotations: plan.annotations,
      });
    case "artifact":
      return await pushArtifact(target, {
        files: plan.files,
        artifactType: plan.artifactType,
        config: plan.config,
        annotations: plan.annotations,
        fileAnnotations: plan.fileAnnotations,
        tag: common.tag,
        exclude: common.exclude,
        includeGit: common.includeGit,
        level: common.compression === "gzip" ? common.level : undefined,
        compressionWorkers: common.compressionWorkers,
        concurrency: common.concurrency,
        onWarning: common.onWarning,
        subject: common.subject,
      });
  }
}

/** Bytes of the blobs a push result refers to (layers and configs, each once). */
export function pushedBytes(result: PushSummary): number {
  return [...blobSizes(result).values()].reduce((a, b) => a + b, 0);
}

/** Size of each distinct blob of a push, by digest. */
function blobSizes(result: PushSummary): Map<string, number> {
  const blobs = new Map<string, number>();
  for (const d of result.layers) blobs.set(d.digest, d.size);
  if (result.config) blobs.set(result.config.digest, result.config.size);
  for (const m of result.manifests ?? []) blobs.set(m.config.digest, m.config.size);
  return blobs;
}

/**
 * What was sent against what the target already had:
 * `0 B uploaded: all blobs present`, or `1.2 MiB uploaded, 3.4 MiB already present`.
 */
export function uploadSummary(
  result: PushSummary,
  formatBytes: (n: number) => string,
): string {
  let uploaded = 0;
  let present = 0;
  for (const [digest, size] of blobSizes(result)) {
    if (result.blobs[digest] === "uploaded") uploaded += size;
    else present += size;
  }
  if (uploaded === 0) return `${formatBytes(0)} uploaded: all blobs present`;
  return present
    ? `${formatBytes(uploaded)} uploaded, ${formatBytes(present)} already present`
    : `${formatBytes(uploaded)} uploaded`;
}

/** Read an oras annotation file: an object of objects of strings. */
export async function readAnnotationFile(path: string): Promise<Record<string, Annotations>> {
  const bytes = (await readNamedFile(path, {
    source: "--annotation-file",
    maxBytes: NAMED_FILE_LIMITS.annotationFile,
    role: "usage",
  }))!;
  let doc: Record<string, unknown>;
  try {
    doc = parseJsonObject(bytes, `annotation file ${path}`, NAMED_FILE_LIMITS.annotationFile);
  } catch (e) {
    throw new UsageError(`--annotation-file: ${(e as Error).message}`);
  }
  const out: Record<string, Annotations> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError(`--annotation-file ${path}: ${JSON.stringify(key)} is not an object`);
    }
    out[key] = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") {
        throw new UsageError(
          `--annotation-file ${path}: ${JSON.stringify(key)}.${JSON.stringify(k)} is not a string`,
        );
      }
      out[key][k] = v;
    }
  }
  return out;
}

/** Commander parser: a valid media type, else InvalidArgumentError. */
export function mediaTypeOption(value: string): string {
  if (!MEDIA_TYPE.test(value)) {
    throw new InvalidArgumentError("expected a media type (type/subtype)");
  }
  return value;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
