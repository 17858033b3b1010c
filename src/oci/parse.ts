/**
 * Turns untrusted bytes (from a registry or a layout on disk) into the typed
 * values of `types.ts`, or throws a ParseError naming the offending field.
 * Parsed values keep only known fields; callers that must preserve the exact
 * bytes (copy, `manifest`) keep the bytes alongside.
 *
 * @module
 */

import { ParseError } from "../errors.ts";
import { type Digest, parseDigest } from "./digest.ts";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from "./media_types.ts";
import type { Platform } from "./platform.ts";
import type {
  Annotations,
  Descriptor,
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  ParsedManifest,
} from "./types.ts";
import { LIMITS } from "./limits.ts";

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/**
 * Parse a manifest or index. `contentType` (e.g. from a registry's
 * Content-Type header) must agree with the document's own `mediaType`.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./parse.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [],
 * }));
 * console.assert(parseManifest(bytes).kind === "index");
 * ```
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const doc = parseJsonObject(bytes, "manifest", LIMITS.manifestBytes);
  checkSchemaVersion(doc);
  const declared = optionalString(doc, "mediaType", "");
  const type = contentType?.split(";")[0].trim();
  if (declared !== undefined && type && isKnownManifestType(type) && declared !== type) {
    throw new ParseError(`document says ${declared} but was served as ${type}`, "mediaType");
  }
  const mediaType = declared ?? (type && isKnownManifestType(type) ? type : undefined);
  if (mediaType !== undefined && !isKnownManifestType(mediaType)) {
    throw new ParseError(
      `unsupported manifest media type ${JSON.stringify(mediaType)}`,
      "mediaType",
    );
  }
  const isIndex = mediaType ? INDEX_MEDIA_TYPES.includes(mediaType) : "manifests" in doc;
  if (isIndex) return { kind: "index", index: indexFrom(doc) };
  if (!("config" in doc) && "manifests" in doc) {
    throw new ParseError("has manifests[] but declares an image manifest media type", "mediaType");
  }
  return { kind: "manifest", manifest: manifestFrom(doc) };
}

/**
 * Parse bytes that must be an image manifest (not an index).
 *
 * @example
 * ```ts
 * import { parseImageManifest } from "./parse.ts";
 * const digest = `sha256:${"0".repeat(64)}`;
 * const manifest = parseImageManifest(new TextEncoder().encode(JSON.stringify({
 *   schemaVersion: 2,
 *   mediaType: "application/vnd.oci.image.manifest.v1+json",
 *   config: { mediaType: "application/vnd.oci.empty.v1+json", digest, size: 2 },
 *   layers: [],
 * })));
 * console.assert(manifest.layers.length === 0);
 * ```
 */
export function parseImageManifest(bytes: Uint8Array, contentType?: string): ImageManifest {
  const parsed = parseManifest(bytes, contentType);
  if (parsed.kind !== "manifest") throw new ParseError("expected an image manifest, got an index");
  return parsed.manifest;
}

/**
 * Parse bytes that must be an index or manifest list.
 *
 * @example
 * ```ts
 * import { parseImageIndex } from "./parse.ts";
 * const index = parseImageIndex(new TextEncoder().encode(JSON.stringify({
 *   schemaVersion: 2,
 *   mediaType: "application/vnd.oci.image.index.v1+json",
 *   manifests: [],
 * })));
 * console.assert(index.manifests.length === 0);
 * ```
 */
export function parseImageIndex(bytes: Uint8Array, contentType?: string): ImageIndex {
  const parsed = parseManifest(bytes, contentType);
  if (parsed.kind !== "index") throw new ParseError("expected an index, got an image manifest");
  return parsed.index;
}

/**
 * Parse an image config (OCI or Docker). `os` and `architecture` may be empty
 * strings (imgpkg writes them so) but must be strings when present.
 *
 * @example
 * ```ts
 * import { parseImageConfig } from "./parse.ts";
 * const config = parseImageConfig(new TextEncoder().encode(JSON.stringify({
 *   architecture: "amd64",
 *   os: "linux",
 *   rootfs: { type: "layers", diff_ids: [] },
 * })));
 * console.assert(config.os === "linux");
 * ```
 */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const doc = parseJsonObject(bytes, "config", LIMITS.configBytes);
  const rootfs = requireObject(doc, "rootfs", "");
  if (rootfs.type !== "layers") {
    throw new ParseError(`expected "layers", got ${JSON.stringify(rootfs.type)}`, "rootfs.type");
  }
  const diffIds = requireArray(rootfs, "diff_ids", "rootfs").map((d, i) =>
    digestValue(d, `rootfs.diff_ids[${i}]`)
  );
  const config: ImageConfig = {
    architecture: optionalString(doc, "architecture", "") ?? "",
    os: optionalString(doc, "os", "") ?? "",
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const variant = optionalString(doc, "variant", "");
  if (variant !== undefined) config.variant = variant;
  const created = optionalString(doc, "created", "");
  if (created !== undefined) config.created = created;
  if (doc.history !== undefined && doc.history !== null) {
    config.history = asArray(doc.history, "history").map((h, i) =>
      historyEntry(h, `history[${i}]`)
    );
  }
  if (doc.config !== undefined && doc.config !== null) {
    const inner = requireObject(doc, "config", "");
    const labels = inner.Labels;
    config.config = {};
    if (labels !== undefined && labels !== null) {
      config.config.Labels = stringMap(labels, "config.Labels");
    }
  }
  return config;
}

/**
 * Parse one descriptor found at `path` of a document.
 *
 * @example
 * ```ts
 * import { parseDescriptor } from "./parse.ts";
 * const d = parseDescriptor(
 *   { mediaType: "application/octet-stream", digest: `sha256:${"0".repeat(64)}`, size: 1 },
 *   "layers[0]",
 * );
 * console.assert(d.size === 1);
 * ```
 */
export function parseDescriptor(value: unknown, path: string): Descriptor {
  const obj = asObject(value, path);
  const desc: Descriptor = {
    mediaType: mediaTypeValue(obj.mediaType, `${path}.mediaType`),
    digest: digestValue(obj.digest, `${path}.digest`),
    size: sizeValue(obj.size, `${path}.size`),
  };
  if (obj.urls !== undefined) {
    desc.urls = asArray(obj.urls, `${path}.urls`).map((u, i) =>
      stringValue(u, `${path}.urls[${i}]`)
    );
  }
  if (obj.annotations !== undefined) {
    desc.annotations = stringMap(obj.annotations, `${path}.annotations`);
  }
  if (obj.data !== undefined) {
    const data = stringValue(obj.data, `${path}.data`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new ParseError("not base64", `${path}.data`);
    desc.data = data;
  }
  if (obj.platform !== undefined) desc.platform = platformValue(obj.platform, `${path}.platform`);
  const artifactType = optionalString(obj, "artifactType", path);
  if (artifactType !== undefined) {
    desc.artifactType = mediaTypeValue(artifactType, `${path}.artifactType`);
  }
  return desc;
}

function historyEntry(value: unknown, path: string): HistoryEntry {
  const obj = asObject(value, path);
  const entry: HistoryEntry = {};
  for (const key of ["created", "created_by", "author", "comment"] as const) {
    const text = optionalString(obj, key, path);
    if (text !== undefined) entry[key] = text;
  }
  if (typeof obj.empty_layer === "boolean") entry.empty_layer = obj.empty_layer;
  return entry;
}

function manifestFrom(doc: Json): ImageManifest {
  const layers = requireArray(doc, "layers", "");
  if (layers.length > LIMITS.layers) {
    throw new ParseError(`${layers.length} layers exceed the limit of ${LIMITS.layers}`, "layers");
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: parseDescriptor(requireField(doc, "config", ""), "config"),
    layers: layers.map((l, i) => parseDescriptor(l, `layers[${i}]`)),
  };
  copyCommonFields(doc, manifest);
  return manifest;
}

/**
 * Parse an OCI layout's `index.json`, which lists every tag of the layout and
 * so gets larger bounds than an index fetched as a manifest.
 *
 * @example
 * ```ts
 * import { parseLayoutIndex } from "./parse.ts";
 * const index = parseLayoutIndex(new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}'));
 * console.assert(index.manifests.length === 0);
 * ```
 */
export function parseLayoutIndex(bytes: Uint8Array): ImageIndex {
  const doc = parseJsonObject(bytes, "index.json", LIMITS.layoutIndexBytes);
  checkSchemaVersion(doc);
  return indexFrom(doc, LIMITS.layoutIndexEntries);
}

function indexFrom(doc: Json, maxEntries: number = LIMITS.indexEntries): ImageIndex {
  const entries = requireArray(doc, "manifests", "");
  if (entries.length > maxEntries) {
    throw new ParseError(
      `${entries.length} entries exceed the limit of ${maxEntries}`,
      "manifests",
    );
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: entries.map((m, i) => parseDescriptor(m, `manifests[${i}]`)),
  };
  copyCommonFields(doc, index);
  return index;
}

function copyCommonFields(doc: Json, target: ImageManifest | ImageIndex): void {
  const mediaType = optionalString(doc, "mediaType", "");
  if (mediaType !== undefined) target.mediaType = mediaType;
  const artifactType = optionalString(doc, "artifactType", "");
  if (artifactType !== undefined) {
    target.artifactType = mediaTypeValue(artifactType, "artifactType");
  }
  if (doc.subject !== undefined) target.subject = parseDescriptor(doc.subject, "subject");
  if (doc.annotations !== undefined) target.annotations = stringMap(doc.annotations, "annotations");
}

function checkSchemaVersion(doc: Json): void {
  if (!("schemaVersion" in doc)) throw new ParseError("missing field", "schemaVersion");
  const version = doc.schemaVersion;
  if (typeof version !== "number") {
    throw new ParseError(`expected a number, got ${typeName(version)}`, "schemaVersion");
  }
  if (version === 1) {
    throw new ParseError(
      "unsupported schemaVersion 1 (Docker v2 schema 1 manifests are deprecated and not supported)",
      "schemaVersion",
    );
  }
  if (version !== 2) throw new ParseError(`unsupported schemaVersion ${version}`, "schemaVersion");
}

function isKnownManifestType(type: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(type) || INDEX_MEDIA_TYPES.includes(type);
}

/**
 * Decode UTF-8 JSON that must be an object, within a size limit.
 *
 * @example
 * ```ts
 * import { parseJsonObject } from "./parse.ts";
 * const obj = parseJsonObject(new TextEncoder().encode('{"a":1}'), "config", 1024);
 * console.assert(obj.a === 1);
 * ```
 */
export function parseJsonObject(bytes: Uint8Array, what: string, limit: number): Json {
  if (bytes.byteLength > limit) {
    throw new ParseError(`${what} is ${bytes.byteLength} bytes, over the ${limit}-byte limit`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ParseError(`${what} is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(`${what} must be a JSON object, got ${typeName(value)}`);
  }
  return value as Json;
}

function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function requireField(obj: Json, key: string, parent: string): unknown {
  if (!(key in obj) || obj[key] === undefined) {
    throw new ParseError("missing field", join(parent, key));
  }
  return obj[key];
}

function requireObject(obj: Json, key: string, parent: string): Json {
  return asObject(requireField(obj, key, parent), join(parent, key));
}

function requireArray(obj: Json, key: string, parent: string): unknown[] {
  return asArray(requireField(obj, key, parent), join(parent, key));
}

function optionalString(obj: Json, key: string, parent: string): string | undefined {
  return obj[key] === undefined ? undefined : stringValue(obj[key], join(parent, key));
}

function asObject(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError(`expected an object, got ${typeName(value)}`, path);
  }
  return value as Json;
}

function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new ParseError(`expected an array, got ${typeName(value)}`, path);
  }
  return value;
}

function stringValue(value: unknown, path: string): string {
  if (typeof value !== "string") {
    throw new ParseError(`expected a string, got ${typeName(value)}`, path);
  }
  return value;
}

function stringMap(value: unknown, path: string): Annotations {
  const obj = asObject(value, path);
  const out: Annotations = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = stringValue(v, `${path}[${JSON.stringify(k)}]`);
  }
  return out;
}

const MEDIA_TYPE_SYNTAX =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function mediaTypeValue(value: unknown, path: string): string {
  const text = stringValue(value, path);
  if (!MEDIA_TYPE_SYNTAX.test(text)) {
    throw new ParseError(`invalid media type ${JSON.stringify(text.slice(0, 80))}`, path);
  }
  return text;
}

function digestValue(value: unknown, path: string): Digest {
  return parseDigest(stringValue(value, path), path);
}

function sizeValue(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ParseError(`expected a non-negative integer, got ${JSON.stringify(value)}`, path);
  }
  return value;
}

function platformValue(value: unknown, path: string): Platform {
  const obj = asObject(value, path);
  const platform: Platform = {
    os: stringValue(requireField(obj, "os", path), `${path}.os`),
    architecture: stringValue(requireField(obj, "architecture", path), `${path}.architecture`),
  };
  const variant = optionalString(obj, "variant", path);
  if (variant !== undefined) platform.variant = variant;
  const osVersion = optionalString(obj, "os.version", path);
  if (osVersion !== undefined) platform["os.version"] = osVersion;
  if (obj["os.features"] !== undefined) {
    platform["os.features"] = asArray(obj["os.features"], `${path}.os.features`).map((f, i) =>
      stringValue(f, `${path}.os.features[${i}]`)
    );
  }
  return platform;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
