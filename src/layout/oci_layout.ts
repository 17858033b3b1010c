/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`) as a
 * {@link Target}. Tags are `org.opencontainers.image.ref.name` annotations on
 * index.json entries, as skopeo and oras write them.
 *
 * @module
 */

import { join } from "node:path";
import { IntegrityError, NotFoundError, ParseError, UsageError } from "../errors.ts";
import {
  BoundedFileError,
  openRegularFile,
  readBoundedFile,
  readBoundedTextFile,
  statRegularFile,
} from "../fs/bounded_file.ts";
import {
  type Digest,
  digestAlgorithm,
  digestHex,
  DigestVerifier,
  verifyStream,
} from "../oci/digest.ts";
import { LIMITS } from "../oci/limits.ts";
import { INDEX_MEDIA_TYPES, OCI } from "../oci/media_types.ts";
import { parseJsonObject, parseLayoutIndex } from "../oci/parse.ts";
import type { Descriptor, ImageIndex } from "../oci/types.ts";
import {
  type BlobSource,
  FILE_CHUNK,
  fileStream,
  isDigestReference,
  type PushManifestOptions,
  readAll,
  type Target,
} from "../target.ts";
import { writeFileAtomic } from "./atomic.ts";

/** The index.json annotation that holds a tag. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
const LAYOUT_VERSION = "1.0.0";

/** Options for {@link OciLayout.open}. */
export interface OpenLayoutOptions {
  /** Create the layout if the directory is missing or empty. */
  create?: boolean;
}

/**
 * An OCI image layout on disk.
 *
 * @example
 * ```ts
 * import { OciLayout } from "./oci_layout.ts";
 * const dir = await Deno.makeTempDir();
 * const layout = await OciLayout.open(dir, { create: true });
 * console.assert((await layout.listTags()).length === 0);
 * ```
 */
export class OciLayout implements Target {
  readonly name: string;
  readonly local = true;
  // Serialises index.json updates made by concurrent pushes in this process.
  #indexLock: Promise<unknown> = Promise.resolve();

  private constructor(readonly root: string) {
    this.name = `oci:${root}`;
  }

  /** Open (and with `create`, initialise) a layout directory. */
  static async open(root: string, options: OpenLayoutOptions = {}): Promise<OciLayout> {
    const layout = new OciLayout(root);
    const marker = join(root, "oci-layout");
    let text: string | undefined;
    try {
      text = await readBoundedTextFile(marker, layout.#fileOptions(LIMITS.layoutMarkerBytes));
    } catch (e) {
      if (!(e instanceof BoundedFileError && e.problem === "missing")) throw e;
    }
    if (text === undefined) {
      if (!options.create) {
        throw new NotFoundError(`${root} is not an OCI image layout (no oci-layout file)`);
      }
      await layout.#initialise();
      return layout;
    }
    const doc = parseJsonObject(new TextEncoder().encode(text), `${marker}`, 4096);
    if (typeof doc.imageLayoutVersion !== "string") {
      throw new ParseError(`${marker}: missing imageLayoutVersion`);
    }
    // The spec knows 1.0.0; a later major version may change the layout's meaning.
    if (!/^1\.\d+\.\d+$/.test(doc.imageLayoutVersion)) {
      throw new ParseError(
        `${marker}: unsupported imageLayoutVersion ${
          JSON.stringify(doc.imageLayoutVersion).slice(0, 40)
        } (this tool reads 1.x layouts)`,
      );
    }
    return layout;
  }

  async #initialise(): Promise<void> {
    await Deno.mkdir(join(this.root, "blobs", "sha256"), { recursive: true });
    const entries = [];
    for await (const entry of Deno.readDir(this.root)) entries.push(entry.name);
    if (entries.some((name) => !["blobs", "index.json", "oci-layout"].includes(name))) {
      throw new ParseError(`${this.root} is not empty and not an OCI image layout`);
    }
    if (!entries.includes("index.json")) {
      await this.#writeIndex({ schemaVersion: 2, mediaType: OCI.index, manifests: [] });
    }
    await writeFileAtomic(
      join(this.root, "oci-layout"),
      new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })),
    );
  }

  /** Bounded reads of the layout's own files never follow a link (the layout is content). */
  #fileOptions(maxBytes: number) {
    return { maxBytes, source: `OCI layout ${this.name}`, followSymlinks: false };
  }

  /** Writing through a linked `blobs/` or `blobs/ALG` would put files elsewhere. */
  async #refuseLinkedBlobs(algorithm: string): Promise<void> {
    for (const dir of [join(this.root, "blobs"), join(this.root, "blobs", algorithm)]) {
      const info = await Deno.lstat(dir).catch(() => undefined);
      if (info && !info.isDirectory) {
        throw new UsageError(
          `${this.name}: ${dir} is ${
            info.isSymlink ? "a symbolic link" : "not a directory"
          }; refusing to write blobs through it`,
        );
      }
    }
  }

  /** Path of a blob inside the layout. */
  blobPath(digest: Digest): string {
    return join(this.root, "blobs", digestAlgorithm(digest), digestHex(digest));
  }

  /** The layout's index.json. */
  async readIndex(): Promise<ImageIndex> {
    const path = join(this.root, "index.json");
    let bytes: Uint8Array;
    try {
      bytes = await readBoundedFile(path, this.#fileOptions(LIMITS.layoutIndexBytes));
    } catch (e) {
      if (e instanceof BoundedFileError && e.problem === "missing") {
        throw new NotFoundError(`${path} does not exist`);
      }
      throw e;
    }
    try {
      return parseLayoutIndex(bytes);
    } catch (e) {
      throw new ParseError(`${path}: ${(e as Error).message}`);
    }
  }

  async resolve(tagOrDigest?: string): Promise<Descriptor> {
    const index = await this.readIndex();
    if (tagOrDigest === undefined) {
      if (index.manifests.length === 1) return withoutRefName(index.manifests[0]);
      tagOrDigest = "latest";
    }
    if (isDigestReference(tagOrDigest)) {
      const listed = index.manifests.find((m) => m.digest === tagOrDigest);
      if (listed) return withoutRefName(listed);
      return await this.#describeStoredManifest(tagOrDigest);
    }
    const matches = index.manifests.filter((m) =>
      m.annotations?.[REF_NAME_ANNOTATION] === tagOrDigest
    );
    if (matches.length === 0) {
      const tags = refNames(index);
      throw new NotFoundError(
        `tag ${JSON.stringify(tagOrDigest)} not found in ${this.name}` +
          (tags.length ? ` (tags: ${tags.join(", ")})` : " (it has no tags)"),
      );
    }
    return withoutRefName(matches[matches.length - 1]);
  }

  async #describeStoredManifest(digest: Digest): Promise<Descriptor> {
    let info: Deno.FileInfo;
    try {
      info = await statRegularFile(this.blobPath(digest), this.#fileOptions(LIMITS.manifestBytes));
    } catch (e) {
      if (e instanceof BoundedFileError && e.problem !== "missing") throw e;
      throw new NotFoundError(`manifest ${digest} not found in ${this.name}`);
    }
    if (info.size > LIMITS.manifestBytes) {
      throw new ParseError(`${digest} is ${info.size} bytes, too large for a manifest`);
    }
    const bytes = await this.fetchManifest({ mediaType: OCI.manifest, digest, size: info.size });
    const doc = parseJsonObject(bytes, `manifest ${digest}`, LIMITS.manifestBytes);
    const mediaType = typeof doc.mediaType === "string"
      ? doc.mediaType
      : Array.isArray(doc.manifests)
      ? OCI.index
      : OCI.manifest;
    return { mediaType, digest, size: info.size };
  }

  async fetchManifest(descriptor: Descriptor): Promise<Uint8Array> {
    if (descriptor.size > LIMITS.manifestBytes) {
      throw new ParseError(
        `manifest ${descriptor.digest} is ${descriptor.size} bytes, over the ${LIMITS.manifestBytes}-byte limit`,
      );
    }
    const bytes = await readAll(await this.fetchBlob(descriptor));
    return bytes;
  }

  async fetchBlob(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>> {
    let file: Deno.FsFile;
    try {
      // lstat first: a FIFO would hang the read, a device or a link would read another file.
      ({ file } = await openRegularFile(
        this.blobPath(descriptor.digest),
        this.#fileOptions(Number.MAX_SAFE_INTEGER),
      ));
    } catch (e) {
      if (e instanceof BoundedFileError && e.problem === "missing") {
        throw new NotFoundError(`blob ${descriptor.digest} not found in ${this.name}`);
      }
      throw e;
    }
    return verifyStream(
      fileStream(file),
      descriptor.digest,
      descriptor.size,
      `blob ${descriptor.digest}`,
    );
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    try {
      const info = await Deno.lstat(this.blobPath(descriptor.digest));
      return info.isFile && info.size === descriptor.size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  async pushBlob(descriptor: Descriptor, source: BlobSource): Promise<void> {
    await this.#refuseLinkedBlobs(digestAlgorithm(descriptor.digest));
    if (await this.exists(descriptor)) return;
    const path = this.blobPath(descriptor.digest);
    await Deno.mkdir(join(this.root, "blobs", digestAlgorithm(descriptor.digest)), {
      recursive: true,
    });
    const temp = `${path}.tmp-${crypto.randomUUID()}`;
    const verifier = new DigestVerifier(
      descriptor.digest,
      descriptor.size,
      `blob ${descriptor.digest}`,
    );
    try {
      if (source.path !== undefined && source.verified) {
        // This process digested it as it wrote it, privately: take it over
        // without reading it again (a hard link when on the same file system).
        await Deno.link(source.path, temp).catch(() => Deno.copyFile(source.path!, temp));
        await Deno.chmod(temp, 0o644);
        const size = (await Deno.stat(temp)).size;
        if (size !== descriptor.size) {
          throw new IntegrityError(
            `blob ${descriptor.digest}: ${size} bytes, expected ${descriptor.size}`,
          );
        }
        await Deno.rename(temp, path);
        return;
      } else if (source.path !== undefined) {
        // A file: copy it in the kernel, then verify the copy (never trust the source).
        await Deno.copyFile(source.path, temp);
        await Deno.chmod(temp, 0o644);
        await hashFile(temp, verifier);
      } else {
        const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
        try {
          for await (const chunk of await source.open()) {
            verifier.update(chunk);
            let written = 0;
            while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
          }
        } finally {
          file.close();
        }
      }
      verifier.finish();
      await Deno.rename(temp, path);
    } catch (e) {
      await Deno.remove(temp).catch(() => {});
      throw e;
    }
  }

  async pushManifest(
    descriptor: Descriptor,
    bytes: Uint8Array,
    tag?: string,
    options: PushManifestOptions = {},
  ): Promise<void> {
    await this.pushBlob(descriptor, {
      size: bytes.byteLength,
      open: () => Promise.resolve(ReadableStream.from([bytes])),
    });
    if (options.child && tag === undefined) return;
    await this.#updateIndex(descriptor, tag);
  }

  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    if (!(await this.exists(descriptor))) {
      throw new NotFoundError(`manifest ${descriptor.digest} not found in ${this.name}`);
    }
    await this.#updateIndex(descriptor, tag);
  }

  async listTags(): Promise<string[]> {
    return refNames(await this.readIndex());
  }

  #updateIndex(descriptor: Descriptor, tag?: string): Promise<void> {
    const update = this.#indexLock.then(async () => {
      const index = await this.readIndex();
      const entry: Descriptor = {
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
      };
      if (descriptor.artifactType) entry.artifactType = descriptor.artifactType;
      if (descriptor.platform) entry.platform = descriptor.platform;
      let manifests = index.manifests;
      if (tag !== undefined) {
        manifests = manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== tag);
        entry.annotations = { [REF_NAME_ANNOTATION]: tag };
        // An untagged entry for the same manifest is now redundant.
        manifests = manifests.filter((m) =>
          m.digest !== descriptor.digest || m.annotations?.[REF_NAME_ANNOTATION]
        );
        manifests.push(entry);
      } else if (!manifests.some((m) => m.digest === descriptor.digest)) {
        manifests.push(entry);
      }
      const updated: ImageIndex = {
        schemaVersion: 2,
        mediaType: index.mediaType ?? OCI.index,
        manifests,
      };
      if (index.annotations) updated.annotations = index.annotations;
      await this.#writeIndex(updated);
    });
    this.#indexLock = update.catch(() => {});
    return update;
  }

  async #writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(
      join(this.root, "index.json"),
      new TextEncoder().encode(JSON.stringify(index)),
    );
  }
}

/** Feed a file's bytes to a verifier, through one reused buffer. */
async function hashFile(path: string, verifier: DigestVerifier): Promise<void> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(FILE_CHUNK);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) return;
    verifier.update(buffer.subarray(0, n));
  }
}

function refNames(index: ImageIndex): string[] {
  const names = new Set<string>();
  for (const m of index.manifests) {
    const name = m.annotations?.[REF_NAME_ANNOTATION];
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

/** A descriptor from index.json minus the layout's own tag annotation. */
function withoutRefName(entry: Descriptor): Descriptor {
  const { annotations, ...rest } = entry;
  if (!annotations) return rest;
  const { [REF_NAME_ANNOTATION]: _name, ...others } = annotations;
  return Object.keys(others).length ? { ...rest, annotations: others } : rest;
}

/** True when `mediaType` names an index rather than a single manifest. */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.includes(mediaType);
}
