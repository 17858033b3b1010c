/**
 * Push a generic OCI artifact the way oras does: one layer per file, named
 * by an `org.opencontainers.image.title` annotation; a directory becomes a
 * tar+gzip layer annotated `io.deis.oras.content.unpack: "true"` whose
 * entries live under the title; the config is a given file with its media
 * type, or the OCI empty config (`{}`, `application/vnd.oci.empty.v1+json`).
 *
 * Unlike oras, no `org.opencontainers.image.created` annotation is added, so
 * the same inputs always give the same digest (pass `--annotation` for one).
 *
 * @module
 */

import type { LayerPushOptions } from "./options.ts";
import { NAMED_FILE_LIMITS, readNamedFile } from "../fs/named_file.ts";
import { createStagingDir } from "./staging.ts";
import { createHash } from "node:crypto";
import { basename, normalize, resolve } from "node:path";
import { CompressorPool, defaultCompressionWorkers } from "../archive/compress_pool.ts";
import { packingProgress } from "./pack_progress.ts";
import { buildTarLayer } from "../archive/layer.ts";
import { collectTree, type TreeEntry } from "../archive/walk.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { type Digest, sha256Digest } from "../oci/digest.ts";
import { OCI } from "../oci/media_types.ts";
import type { Annotations, Descriptor } from "../oci/types.ts";
import { type BlobSource, fileSource, type Target } from "../target.ts";
import {
  CONTENT_DIGEST_ANNOTATION,
  TITLE_ANNOTATION,
  UNPACK_ANNOTATION,
} from "../oci/annotations.ts";
import { imageManifest } from "./image.ts";
import { type Upload, uploadBlobs, type UploadOutcome } from "./upload.ts";

/** Media type of a file layer given without one. */
export const DEFAULT_FILE_MEDIA_TYPE = "application/octet-stream";
/** Config media type of `--config FILE` given without one (as oras). */
export const DEFAULT_CONFIG_MEDIA_TYPE = "application/vnd.unknown.config.v1+json";
/** artifactType of an artifact with the empty config and no `--artifact-type` (as oras). */
export const DEFAULT_ARTIFACT_TYPE = "application/vnd.unknown.artifact.v1";
/** Key of an annotation file for the manifest's own annotations. */
export const MANIFEST_KEY = "$manifest";
/** Key of an annotation file for the config descriptor. */
export const CONFIG_KEY = "$config";

/** A file or directory argument with an optional media type. */
export interface ArtifactInput {
  /** File to push as a blob. */
  path: string;
  /** Media type of the blob (default: a generic one). */
  mediaType?: string;
}

/** Options for {@link pushArtifact}. */
/** Directory layers of artifacts are always tar+gzip, as oras writes them. */
export interface PushArtifactOptions extends Omit<LayerPushOptions, "compression"> {
  /** Files, one layer each. */
  files: ArtifactInput[];
  /** The manifest's `artifactType`. */
  artifactType?: string;
  /** A file to use as the config blob (default: the empty config). */
  config?: ArtifactInput;
  /** Manifest annotations. */
  annotations?: Annotations;
  /** Annotations per layer title, plus `$config` (oras annotation-file keys). */
  fileAnnotations?: Record<string, Annotations>;
  /** The manifest this artifact refers to (`push --subject`). */
  subject?: Descriptor;
}

/** What an artifact push stored. */
export interface PushArtifactResult {
  /** The pushed manifest's descriptor. */
  descriptor: Descriptor;
  /** The config blob. */
  config: Descriptor;
  /** The layer blobs, in order. */
  layers: Descriptor[];
  /** Per blob digest: whether it was sent or already there. */
  blobs: Record<string, UploadOutcome>;
}

/**
 * The layer title of an argument: its path as given when that is relative and
 * stays inside the current directory (as oras names files), else its base name.
 *
 * @example
 * ```ts
 * import { titleOf } from "./push_artifact.ts";
 * console.assert(titleOf("./docs/a.md") === "docs/a.md");
 * console.assert(titleOf("/tmp/x/spec.yaml") === "spec.yaml");
 * ```
 */
export function titleOf(path: string): string {
  const clean = normalize(path).replace(/\/+$/, "");
  if (clean.startsWith("/") || clean === ".." || clean.startsWith("../") || clean === ".") {
    return basename(resolve(path));
  }
  return clean;
}

/**
 * Push `files` as an OCI artifact, one layer each.
 *
 * @example
 * ```ts
 * import { OciLayout } from "../layout/oci_layout.ts";
 * import { pushArtifact } from "./push_artifact.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/spec.yaml`, "a: 1\n");
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * const result = await pushArtifact(layout, {
 *   files: [{ path: `${dir}/spec.yaml`, mediaType: "text/yaml" }],
 *   artifactType: "application/vnd.example.v1",
 * });
 * console.assert(result.layers[0].annotations?.["org.opencontainers.image.title"] === "spec.yaml");
 * ```
 */
export async function pushArtifact(
  target: Target,
  options: PushArtifactOptions,
): Promise<PushArtifactResult> {
  if (options.files.length === 0 && !options.config) {
    throw new UsageError("nothing to push: give files, directories or --config");
  }
  const extra = { ...options.fileAnnotations };
  const staging = await createStagingDir();
  const stagingDir = staging.path;
  const pool = new CompressorPool(options.compressionWorkers ?? defaultCompressionWorkers());
  try {
    const uploads = new Map<string, Upload>();
    const layers: Descriptor[] = [];
    const titles = new Set<string>();
    for (const input of options.files) {
      const title = titleOf(input.path);
      if (titles.has(title)) throw new UsageError(`two inputs would both be named ${title}`);
      titles.add(title);
      const info = await statInput(input.path);
      const annotations: Annotations = { [TITLE_ANNOTATION]: title };
      let descriptor: Descriptor;
      let source: BlobSource;
      if (info.isDirectory) {
        const top: TreeEntry = {
          path: title,
          type: "directory",
          mode: info.mode! & 0o7777,
          size: 0,
          source: input.path,
        };
        const tree = collectTree([input.path], {
          exclude: options.exclude,
          includeGit: options.includeGit,
          onWarning: options.onWarning,
        });
        // The tree under `title/`, made one entry at a time (never a second list).
        const entries: Iterable<TreeEntry> = {
          *[Symbol.iterator]() {
            yield top;
            for (const e of tree) yield { ...e, path: `${title}/${e.path}` };
          },
        };
        const packing = packingProgress(options.progress, entries, title);
        const layer = await buildTarLayer(entries, {
          compression: "gzip",
          level: options.level,
          stagingDir,
          compressor: pool,
          parallelism: pool.parallelism,
          onProgress: packing.onProgress,
        });
        packing.done();
        annotations[CONTENT_DIGEST_ANNOTATION] = layer.diffId;
        annotations[UNPACK_ANNOTATION] = "true";
        descriptor = { ...layer.descriptor };
        if (input.mediaType) descriptor.mediaType = input.mediaType;
        // Digested as it was written into our private staging directory.
        source = fileSource(layer.path, layer.descriptor.size, { verified: true });
      } else {
        descriptor = {
          mediaType: input.mediaType ?? DEFAULT_FILE_MEDIA_TYPE,
          digest: await fileDigest(input.path),
          size: info.size,
        };
        source = fileSource(input.path, info.size);
      }
      descriptor.annotations = { ...annotations, ...extra[title] };
      delete extra[title];
      if (!uploads.has(descriptor.digest)) {
        uploads.set(descriptor.digest, { descriptor, content: source });
      }
      layers.push(descriptor);
    }
    pool.close();
    const config = await configBlob(options.config);
    if (extra[CONFIG_KEY]) config.descriptor.annotations = extra[CONFIG_KEY];
    delete extra[CONFIG_KEY];
    const unknown = Object.keys(extra);
    if (unknown.length) {
      throw new UsageError(
        `the annotation file names ${unknown.map((k) => JSON.stringify(k)).join(", ")}, which ${
          unknown.length > 1 ? "are" : "is"
        } not a pushed file (titles: ${[...titles].join(", ") || "none"})`,
      );
    }
    if (!uploads.has(config.descriptor.digest)) {
      uploads.set(config.descriptor.digest, {
        descriptor: config.descriptor,
        content: config.bytes,
      });
    }
    // Every distinct blob, `concurrency` at a time.
    const blobs = await uploadBlobs(target, [...uploads.values()], options.concurrency);
    const artifactType = options.artifactType ??
      (options.config ? undefined : DEFAULT_ARTIFACT_TYPE);
    const manifest = imageManifest(config.descriptor, layers, {
      annotations: options.annotations,
      artifactType,
      subject: options.subject,
    });
    await target.pushManifest(manifest.descriptor, manifest.bytes, options.tag);
    return { descriptor: manifest.descriptor, config: config.descriptor, layers, blobs };
  } finally {
    pool.close();
    await staging[Symbol.asyncDispose]();
  }
}

async function configBlob(
  input: ArtifactInput | undefined,
): Promise<{ descriptor: Descriptor; bytes: Uint8Array<ArrayBuffer> }> {
  if (!input) {
    const bytes = new TextEncoder().encode("{}");
    // As oras-go's DescriptorEmptyJSON: the two bytes are embedded as well.
    return {
      descriptor: { mediaType: OCI.empty, digest: sha256Digest(bytes), size: 2, data: "e30=" },
      bytes,
    };
  }
  const bytes = (await readNamedFile(input.path, {
    source: "--config",
    maxBytes: NAMED_FILE_LIMITS.artifactConfig,
    role: "usage",
  }))!;
  return {
    descriptor: {
      mediaType: input.mediaType ?? DEFAULT_CONFIG_MEDIA_TYPE,
      digest: sha256Digest(bytes),
      size: bytes.byteLength,
    },
    bytes,
  };
}

async function statInput(path: string): Promise<Deno.FileInfo> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile && !info.isDirectory) {
      throw new UsageError(`${path} is not a regular file or directory`);
    }
    return info;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new NotFoundError(`${path} does not exist`);
    throw e;
  }
}

async function fileDigest(path: string): Promise<Digest> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  // The readable closes the file when it ends or fails.
  for await (const chunk of file.readable) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}
