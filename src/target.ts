/**
 * The one interface push, pull and copy talk to. A registry repository and an
 * OCI image layout both implement it, so no command cares which it has.
 *
 * @module
 */

import { ParseError } from "./errors.ts";
import type { Digest } from "./oci/digest.ts";
import type { Descriptor } from "./oci/types.ts";

/**
 * Blob content that can be opened more than once (a retried upload re-reads
 * it). `path` is set when the content is a file, so a target can copy or
 * rename it instead of streaming.
 */
export interface BlobSource {
  /** Size in bytes. */
  readonly size: number;
  /** File holding the content, when it is a file. */
  readonly path?: string;
  /** Where the blob already is, so a registry can mount it instead of receiving it. */
  readonly mountFrom?: RepositoryLocation;
  /**
   * The file at `path` is private to this process, which computed its digest
   * while writing it (a staged layer): a target may take it over (link,
   * rename) without reading it again. Never set for a user's file.
   */
  readonly verified?: boolean;
  /** A fresh stream of the content. */
  open(): Promise<ReadableStream<Uint8Array>>;
}

/** A repository of a registry. */
export interface RepositoryLocation {
  /** Registry host, e.g. `ghcr.io`. */
  registry: string;
  /** Repository path, e.g. `team/app`. */
  repository: string;
}

/** A manifest's exact bytes together with the descriptor that addresses it. */
export interface FetchedManifest {
  /** Descriptor addressing the bytes. */
  descriptor: Descriptor;
  /** The manifest's exact bytes. */
  bytes: Uint8Array;
}

/** Options for {@link Target.pushManifest}. */
export interface PushManifestOptions {
  /**
   * The manifest is an entry of an index pushed with it (a platform image, an
   * attestation): an OCI layout stores it as a blob without an `index.json`
   * entry, as skopeo and oras write layouts, so only the top-level reference is
   * listed. Registries store it as any manifest.
   */
  child?: boolean;
}

/** Where content lives: one registry repository, or one OCI layout. */
export interface Target {
  /** Human-readable location, e.g. `oci:./store` or `localhost:5000/repo`. */
  readonly name: string;

  /** Set by registry targets: which repository this is (copy uses it to mount). */
  readonly location?: RepositoryLocation;

  /** Content is on local disk (a layout): reading ahead into staging files gains nothing. */
  readonly local?: boolean;

  /**
   * Descriptor of the manifest a tag or digest points at; NotFoundError if
   * none. Undefined means the target's default (`latest`; for a layout with a
   * single manifest, that manifest).
   */
  resolve(tagOrDigest?: string): Promise<Descriptor>;

  /** A manifest's bytes, verified against the descriptor's digest and size. */
  fetchManifest(descriptor: Descriptor): Promise<Uint8Array>;

  /**
   * A blob's content; the stream errors with IntegrityError if it does not
   * match, and never ends cleanly before its content was checked (the content
   * cache relies on that to keep what it saw).
   */
  fetchBlob(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>>;

  /** Whether a blob (or manifest) with this digest is already stored. */
  exists(descriptor: Descriptor): Promise<boolean>;

  /** Store a blob; its content is verified against the descriptor. */
  pushBlob(descriptor: Descriptor, source: BlobSource): Promise<void>;

  /** Store a manifest, optionally under a tag. */
  pushManifest(
    descriptor: Descriptor,
    bytes: Uint8Array,
    tag?: string,
    options?: PushManifestOptions,
  ): Promise<void>;

  /** Point a tag at an existing manifest. */
  tag(descriptor: Descriptor, tag: string): Promise<void>;

  /** Tags known to the target, sorted. */
  listTags(): Promise<string[]>;

  /** Release connections and other resources. */
  close?(): void | Promise<void>;
}

/** The operations of a {@link Target} that {@link delegateTarget} lets a wrapper replace. */
export type TargetOverrides = Partial<
  Pick<Target, "resolve" | "fetchManifest" | "fetchBlob" | "exists" | "pushBlob" | "pushManifest">
>;

/**
 * A Target that forwards every call to `target` except the ones in
 * `overrides`. Calls stay bound to `target` (registry targets keep private
 * state, so `this` must not change), and `name`, `location` and `local` are
 * read live.
 *
 * @example
 * ```ts
 * import { delegateTarget } from "./target.ts";
 * import { OciLayout } from "./layout/oci_layout.ts";
 * const layout = await OciLayout.open(await Deno.makeTempDir(), { create: true });
 * let asked = 0;
 * const counted = delegateTarget(layout, {
 *   exists: (d) => (asked++, layout.exists(d)),
 * });
 * console.assert(counted.name === layout.name);
 * ```
 */
export function delegateTarget(target: Target, overrides: TargetOverrides): Target {
  return {
    get name() {
      return target.name;
    },
    get location() {
      return target.location;
    },
    get local() {
      return target.local;
    },
    resolve: (tagOrDigest) => target.resolve(tagOrDigest),
    fetchManifest: (descriptor) => target.fetchManifest(descriptor),
    fetchBlob: (descriptor) => target.fetchBlob(descriptor),
    exists: (descriptor) => target.exists(descriptor),
    pushBlob: (descriptor, source) => target.pushBlob(descriptor, source),
    pushManifest: (descriptor, bytes, tag, options) =>
      target.pushManifest(descriptor, bytes, tag, options),
    tag: (descriptor, tag) => target.tag(descriptor, tag),
    listTags: () => target.listTags(),
    close: () => target.close?.(),
    ...overrides,
  };
}

/**
 * A BlobSource over bytes held in memory (manifests, configs, small files).
 *
 * @example
 * ```ts
 * import { bytesSource } from "./target.ts";
 * const source = bytesSource(new TextEncoder().encode("{}"));
 * console.assert(source.size === 2);
 * ```
 */
export function bytesSource(bytes: Uint8Array): BlobSource {
  return {
    size: bytes.byteLength,
    open: () =>
      Promise.resolve(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        }),
      ),
  };
}

/**
 * A BlobSource over a file on disk (`verified`: see {@link BlobSource.verified}).
 *
 * @example
 * ```ts
 * import { fileSource, readAll } from "./target.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi");
 * const bytes = await readAll(await fileSource(path, 2).open());
 * console.assert(bytes.length === 2);
 * ```
 */
export function fileSource(
  path: string,
  size: number,
  options: { verified?: boolean } = {},
): BlobSource {
  return {
    size,
    path,
    verified: options.verified,
    // FsFile.readable is backed by the file itself: fetch sends it from the
    // file without passing chunks through JavaScript (no garbage, no copies).
    open: async () => (await Deno.open(path, { read: true })).readable,
  };
}

/** Bytes per chunk of {@link fileStream}. */
export const FILE_CHUNK = 1024 * 1024;

/**
 * A file's content as a byte stream (BYOB readers read straight into their
 * own buffer; default readers get 1 MiB chunks). The file is closed at the
 * end, on error and on cancel. (`FsFile.readable` reads 64 KiB at a time
 * into fresh buffers, which costs a third of the time of a whole pull.)
 *
 * @example
 * ```ts
 * import { fileStream } from "./target.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * const chunks = await Array.fromAsync(fileStream(await Deno.open(path)));
 * console.assert(chunks[0].byteLength === 5);
 * ```
 */
export function fileStream(file: Deno.FsFile): ReadableStream<Uint8Array<ArrayBuffer>> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    file.close();
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: FILE_CHUNK,
    async pull(controller) {
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array<ArrayBuffer>;
      let n: number | null;
      try {
        n = await file.read(view);
      } catch (e) {
        close();
        throw e;
      }
      if (n === null) {
        close();
        controller.close();
        request.respond(0);
        return;
      }
      request.respond(n);
    },
    cancel: close,
  }) as ReadableStream<Uint8Array<ArrayBuffer>>;
}

/**
 * Read a whole (small) stream into memory. With `limit`, stop reading and
 * throw a ParseError as soon as more than `limit.bytes` arrive, so an
 * endless answer cannot exhaust memory.
 *
 * @example
 * ```ts
 * import { readAll } from "./target.ts";
 * const bytes = await readAll([new Uint8Array([1]), new Uint8Array([2, 3])]);
 * console.assert(bytes.length === 3);
 * ```
 */
export async function readAll(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limit?: { bytes: number; what: string },
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Throwing inside the loop cancels the stream.
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (limit && total > limit.bytes) {
      throw new ParseError(`${limit.what} is over the ${limit.bytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * `tagOrDigest` is a digest rather than a tag.
 *
 * @example
 * ```ts
 * import { isDigestReference } from "./target.ts";
 * console.assert(isDigestReference(`sha256:${"0".repeat(64)}`) && !isDigestReference("v1"));
 * ```
 */
export function isDigestReference(tagOrDigest: string): tagOrDigest is Digest {
  return tagOrDigest.includes(":");
}
