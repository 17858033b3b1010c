/**
 * One repository of a registry as a {@link Target}: manifests by tag or
 * digest (verified, at most 4 MiB), blobs verified while they stream and
 * resumed after dropped connections, uploads that mount what the registry
 * already has elsewhere, tags with pagination.
 *
 * @module
 */

import { IntegrityError, ParseError } from "../errors.ts";
import { type Digest, sha256Digest, verifyStream } from "../oci/digest.ts";
import { LIMITS } from "../oci/limits.ts";
import {
  INDEX_MEDIA_TYPES,
  MANIFEST_ACCEPT,
  MANIFEST_MEDIA_TYPES,
  OCI,
} from "../oci/media_types.ts";
import { parseJsonObject } from "../oci/parse.ts";
import type { Descriptor } from "../oci/types.ts";
import type { BlobSource, RepositoryLocation, Target } from "../target.ts";
import { isDigestReference } from "../target.ts";
import { BODY_LIMITS, readBodyCapped } from "./bounded_body.ts";
import { BlobLocations } from "./blob_locations.ts";
import { resumableBody, tryMount, uploadBlob, type UploadContext } from "./blob_transfer.ts";
import { rangedDownload, rangedSettings } from "./ranged_download.ts";
import type { RegistryClient } from "./client.ts";
import { defaultRetryPolicy, type RetryPolicy } from "./retry.ts";

/** Options for {@link RegistryTarget}. */
export interface RegistryTargetOptions {
  /** Ask for push access (needed to write). */
  write?: boolean;
  /** Where blobs were seen, for cross-repository mounts; default the user cache. */
  locations?: BlobLocations | null;
  retry?: RetryPolicy;
  /** Tags asked for per page of the tag list (default 1000). */
  tagPageSize?: number;
}

/**
 * A registry repository.
 *
 * @example
 * ```ts ignore
 * const target = new RegistryTarget(new RegistryClient("localhost:5000"), "team/app");
 * const descriptor = await target.resolve("v1");
 * ```
 */
export class RegistryTarget implements Target {
  readonly name: string;
  readonly location: RepositoryLocation;
  readonly #scopes: string[];
  readonly #locations: BlobLocations | null;
  readonly #policy: RetryPolicy;
  readonly #tagPageSize: number;
  /** Manifest bytes fetched by resolve(), so fetchManifest() need not ask twice. */
  readonly #manifests = new Map<string, Uint8Array>();

  constructor(
    readonly client: RegistryClient,
    readonly repository: string,
    options: RegistryTargetOptions = {},
  ) {
    this.name = `${client.registry}/${repository}`;
    this.location = { registry: client.registry, repository };
    this.#scopes = [`repository:${repository}:${options.write ? "pull,push" : "pull"}`];
    this.#locations = options.locations === undefined ? new BlobLocations() : options.locations;
    this.#policy = options.retry ?? defaultRetryPolicy();
    this.#tagPageSize = options.tagPageSize ?? 1000;
  }

  async resolve(tagOrDigest?: string): Promise<Descriptor> {
    const reference = tagOrDigest ?? "latest";
    const { descriptor, bytes } = await this.#getManifest(reference);
    this.#manifests.set(descriptor.digest, bytes);
    return descriptor;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Uint8Array> {
    const cached = this.#manifests.get(descriptor.digest);
    const bytes = cached ?? (await this.#getManifest(descriptor.digest)).bytes;
    if (bytes.byteLength !== descriptor.size) {
      throw new IntegrityError(
        `manifest ${descriptor.digest}: expected ${descriptor.size} bytes, got ${bytes.byteLength}`,
      );
    }
    return bytes;
  }

  async #getManifest(reference: string): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
    const what = `manifest ${reference} in ${this.name}`;
    const response = await this.client.send({
      method: "GET",
      url: `/v2/${this.repository}/manifests/${reference}`,
      scopes: this.#scopes,
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) await this.client.failure(response, what);
    const length = Number(response.headers.get("content-length") ?? "0");
    if (length > LIMITS.manifestBytes) {
      await response.body?.cancel();
      throw new ParseError(
        `${what} is ${length} bytes, over the ${LIMITS.manifestBytes}-byte limit`,
      );
    }
    const bytes = await readBodyCapped(response, LIMITS.manifestBytes, what);
    const digest = sha256Digest(bytes);
    if (isDigestReference(reference) && reference !== digest) {
      throw new IntegrityError(`${what}: content digest is ${digest}`);
    }
    const served = response.headers.get("docker-content-digest");
    if (served?.startsWith("sha256:") && served !== digest) {
      throw new IntegrityError(`${what}: the registry says ${served} but the content is ${digest}`);
    }
    const mediaType = manifestMediaType(response.headers.get("content-type"), bytes, what);
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  async fetchBlob(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>> {
    const what = `blob ${descriptor.digest} in ${this.name}`;
    const get = (offset: number) =>
      this.client.send({
        method: "GET",
        url: `/v2/${this.repository}/blobs/${descriptor.digest}`,
        scopes: this.#scopes,
        headers: offset > 0
          ? { "Accept-Encoding": "identity", Range: `bytes=${offset}-` }
          : { "Accept-Encoding": "identity" },
      });
    let response: Response;
    const settings = rangedSettings();
    if (descriptor.size >= settings.minBytes && settings.connections > 1 && descriptor.size > 0) {
      const ranged = await rangedDownload(
        descriptor.size,
        (start, end) =>
          this.client.send({
            method: "GET",
            url: `/v2/${this.repository}/blobs/${descriptor.digest}`,
            scopes: this.#scopes,
            headers: { "Accept-Encoding": "identity", Range: `bytes=${start}-${end}` },
          }),
        what,
        settings,
        (line) => this.client.debug(line),
      );
      if ("stream" in ranged) {
        this.#remember(descriptor.digest);
        return verifyStream(ranged.stream, descriptor.digest, descriptor.size, what);
      }
      response = ranged.whole; // Range ignored: one stream, as for small blobs
      this.client.debug(`${what}: the registry ignores Range; one stream`);
    } else {
      response = await get(0);
    }
    if (response.status !== 200) await this.client.failure(response, what);
    const length = response.headers.get("content-length");
    if (length !== null && Number(length) !== descriptor.size) {
      await response.body?.cancel();
      throw new IntegrityError(
        `${what}: the registry sends ${length} bytes, expected ${descriptor.size}`,
      );
    }
    this.#remember(descriptor.digest);
    return verifyStream(
      resumableBody(response, get, this.#policy, (line) => this.client.debug(line)),
      descriptor.digest,
      descriptor.size,
      what,
    );
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    const kind = isManifestType(descriptor.mediaType) ? "manifests" : "blobs";
    const response = await this.client.send({
      method: "HEAD",
      url: `/v2/${this.repository}/${kind}/${descriptor.digest}`,
      scopes: this.#scopes,
      headers: kind === "manifests" ? { Accept: MANIFEST_ACCEPT } : {},
    });
    await response.body?.cancel();
    if (response.status === 200) {
      if (kind === "blobs") this.#remember(descriptor.digest);
      return true;
    }
    if (response.status === 404) return false;
    return await this.client.failure(
      response,
      `${kind.slice(0, -1)} ${descriptor.digest} in ${this.name}`,
    );
  }

  async pushBlob(descriptor: Descriptor, source: BlobSource): Promise<void> {
    const context: UploadContext = {
      client: this.client,
      repository: this.repository,
      scopes: this.#scopes,
      policy: this.#policy,
    };
    const candidates = new Set<string>();
    if (source.mountFrom?.registry === this.client.registry) {
      candidates.add(source.mountFrom.repository);
    }
    for (
      const repo
        of (await this.#locations?.repositoriesOf(this.client.registry, descriptor.digest)) ?? []
    ) {
      candidates.add(repo);
    }
    candidates.delete(this.repository);
    const mounted = candidates.size
      ? await tryMount(context, descriptor, [...candidates])
      : undefined;
    if (mounted !== "mounted") await uploadBlob(context, descriptor, source, mounted);
    this.#remember(descriptor.digest);
  }

  async pushManifest(descriptor: Descriptor, bytes: Uint8Array, tag?: string): Promise<void> {
    const reference = tag ?? descriptor.digest;
    const what = `manifest ${reference} in ${this.name}`;
    if (sha256Digest(bytes) !== descriptor.digest) {
      throw new IntegrityError(`${what}: the bytes do not match ${descriptor.digest}`);
    }
    const response = await this.client.send({
      method: "PUT",
      url: `/v2/${this.repository}/manifests/${reference}`,
      scopes: this.#scopes,
      headers: { "Content-Type": descriptor.mediaType },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    if (response.status !== 201 && response.status !== 200) {
      await this.client.failure(response, what);
    }
    await response.body?.cancel();
    const stored = response.headers.get("docker-content-digest");
    if (stored && stored !== descriptor.digest) {
      throw new IntegrityError(
        `${what}: the registry stored ${stored} instead of ${descriptor.digest}`,
      );
    }
    this.#manifests.set(descriptor.digest, bytes);
  }

  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    await this.pushManifest(descriptor, await this.fetchManifest(descriptor), tag);
  }

  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `/v2/${this.repository}/tags/list?n=${this.#tagPageSize}`;
    for (let page = 0; url && page < 10_000; page++) {
      let response: Response = await this.client.send({ method: "GET", url, scopes: this.#scopes });
      if (page === 0 && response.status === 400) {
        // Some registries refuse a page size above their own maximum (Distribution 3.1
        // answers PAGINATION_NUMBER_INVALID); without `n` they choose it and link onwards.
        await response.body?.cancel();
        url = `/v2/${this.repository}/tags/list`;
        response = await this.client.send({ method: "GET", url, scopes: this.#scopes });
      }
      if (response.status !== 200) await this.client.failure(response, `repository ${this.name}`);
      const body = parseJsonObject(
        await readBodyCapped(response, BODY_LIMITS.tagPageBytes, `a tag page of ${this.name}`),
        `tags of ${this.name}`,
        BODY_LIMITS.tagPageBytes,
      );
      if (Array.isArray(body.tags)) {
        tags.push(...body.tags.filter((t): t is string => typeof t === "string"));
      }
      url = nextLink(response.headers.get("link"), response.url || url);
    }
    return [...new Set(tags)].sort();
  }

  async close(): Promise<void> {
    await this.#locations?.save();
  }

  #remember(digest: Digest): void {
    this.#locations?.remember(this.client.registry, digest, this.repository);
  }
}

function isManifestType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mediaType) || INDEX_MEDIA_TYPES.includes(mediaType);
}

/** The media type from Content-Type, or from the document when the header is generic. */
function manifestMediaType(contentType: string | null, bytes: Uint8Array, what: string): string {
  const type = contentType?.split(";")[0].trim() ?? "";
  if (isManifestType(type)) return type;
  const doc = parseJsonObject(bytes, what, LIMITS.manifestBytes);
  if (typeof doc.mediaType === "string") return doc.mediaType;
  return Array.isArray(doc.manifests) ? OCI.index : OCI.manifest;
}

/** The target of `Link: <url>; rel="next"`, resolved against the request URL. */
export function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (match) return new URL(match[1], new URL(base, "http://placeholder")).href;
  }
  return undefined;
}
