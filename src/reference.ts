/**
 * Image references: `[host[:port]/]repository[:tag][@digest]`, normalised the
 * way the docker CLI does it, and `oci:PATH[:tag|@digest]` for OCI image
 * layouts on disk.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { type Digest, parseDigest } from "./oci/digest.ts";

/** A repository in a registry, with an optional tag and/or digest. */
export interface RegistryReference {
  /** A registry reference. */
  kind: "registry";
  /** Host and optional port; Docker Hub is `registry-1.docker.io`. */
  registry: string;
  /** Repository path, e.g. `team/app`. */
  repository: string;
  /** Tag, when given. */
  tag?: string;
  /** Digest, when given. */
  digest?: Digest;
}

/** An OCI image layout directory, with an optional tag and/or digest. */
export interface LayoutReference {
  /** An OCI image layout reference. */
  kind: "layout";
  /** Directory of the layout. */
  path: string;
  /** Tag (`org.opencontainers.image.ref.name`), when given. */
  tag?: string;
  /** Digest, when given. */
  digest?: Digest;
}

/** Either kind of reference. */
export type Reference = RegistryReference | LayoutReference;

/** The host name Docker Hub's API answers on. */
export const DOCKER_HUB_REGISTRY = "registry-1.docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", DOCKER_HUB_REGISTRY]);

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$`,
);
const MAX_NAME_LENGTH = 255;

/** Options for {@link parseReference}. */
export interface ParseReferenceOptions {
  /** Treat the text as an OCI layout path even without the `oci:` prefix. */
  ociLayout?: boolean;
  /** Tag to use when neither tag nor digest is given (registry only); default `latest`. */
  defaultTag?: string;
}

/**
 * Parse and normalise a reference.
 *
 * @example
 * ```ts
 * import { formatReference, parseReference } from "./reference.ts";
 * console.assert(formatReference(parseReference("ubuntu")) ===
 *   "registry-1.docker.io/library/ubuntu:latest");
 * const layout = parseReference("oci:./store:v1");
 * console.assert(layout.kind === "layout" && layout.tag === "v1");
 * ```
 */
export function parseReference(text: string, options: ParseReferenceOptions = {}): Reference {
  if (text.startsWith("oci:")) return parseLayoutReference(text.slice(4), text);
  if (options.ociLayout) return parseLayoutReference(text, text);
  return parseRegistryReference(text, options.defaultTag ?? "latest");
}

function parseRegistryReference(text: string, defaultTag: string): RegistryReference {
  const fail = (why: string): never => {
    throw new UsageError(`invalid reference ${JSON.stringify(text)}: ${why}`);
  };
  if (text === "") fail("empty");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    const bare = text.slice(scheme[0].length);
    const plain = scheme[1].toLowerCase() === "http"
      ? " (plain HTTP is automatic for localhost; add --plain-http for other hosts)"
      : "";
    fail(`a reference has no scheme: write ${JSON.stringify(bare)}${plain}`);
  }
  if (text.startsWith("/") || text.startsWith("./") || text.startsWith("../")) {
    fail(`that is a path; an OCI layout directory is written oci:${text}`);
  }
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch (e) {
      fail((e as Error).message);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) fail(tag === "" ? "empty tag" : `invalid tag ${JSON.stringify(tag)}`);
    rest = rest.slice(0, colon);
  }
  let registry = DOCKER_HUB_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first) {
      if (!HOST.test(first)) fail(`invalid registry host ${JSON.stringify(first)}`);
      registry = DOCKER_HUB_ALIASES.has(first) ? DOCKER_HUB_REGISTRY : first;
      repository = rest.slice(slash + 1);
    }
  }
  if (repository === "") fail("missing repository");
  if (repository.toLowerCase() !== repository) fail("repository name must be lowercase");
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      fail(`invalid repository component ${JSON.stringify(component)}`);
    }
  }
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes("/")) {
    repository = `library/${repository}`;
  }
  if (`${registry}/${repository}`.length > MAX_NAME_LENGTH) {
    fail(`name longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined) tag = defaultTag;
  const ref: RegistryReference = { kind: "registry", registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

function parseLayoutReference(body: string, text: string): LayoutReference {
  let path = body;
  let digest: Digest | undefined;
  let tag: string | undefined;
  const at = path.lastIndexOf("@");
  if (at > path.lastIndexOf("/")) {
    try {
      digest = parseDigest(path.slice(at + 1));
    } catch (e) {
      throw new UsageError(`invalid reference ${JSON.stringify(text)}: ${(e as Error).message}`);
    }
    path = path.slice(0, at);
  }
  // Any ':' in the path starts the tag, even when a '/' follows it: taking
  // `oci:L:../../evil` as the directory `L:../../evil` would create a layout
  // two levels up. A path with a ':' of its own needs a tag after it.
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    if (!TAG.test(tag)) {
      throw new UsageError(
        `invalid reference ${JSON.stringify(text)}: ${
          tag === "" ? "empty tag" : `invalid tag ${JSON.stringify(tag)}`
        }`,
      );
    }
    path = path.slice(0, colon);
  }
  if (path === "") {
    throw new UsageError(`invalid reference ${JSON.stringify(text)}: empty layout path`);
  }
  const ref: LayoutReference = { kind: "layout", path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * The canonical text of a reference (`oci:` prefix for layouts).
 *
 * @example
 * ```ts
 * import { formatReference, parseReference } from "./reference.ts";
 * console.assert(formatReference(parseReference("ghcr.io/team/app:v1")) === "ghcr.io/team/app:v1");
 * ```
 */
export function formatReference(ref: Reference): string {
  const base = ref.kind === "layout" ? `oci:${ref.path}` : `${ref.registry}/${ref.repository}`;
  return `${base}${ref.tag !== undefined ? `:${ref.tag}` : ""}${
    ref.digest ? `@${ref.digest}` : ""
  }`;
}

/**
 * The same location with a digest and no tag: what `push` prints.
 *
 * @example
 * ```ts
 * import { formatReference, parseReference, withDigest } from "./reference.ts";
 * const digest = `sha256:${"0".repeat(64)}` as const;
 * const ref = withDigest(parseReference("ghcr.io/team/app:v1"), digest);
 * console.assert(formatReference(ref) === `ghcr.io/team/app@${digest}`);
 * ```
 */
export function withDigest<R extends Reference>(ref: R, digest: Digest): R {
  const { tag: _tag, ...rest } = ref;
  return { ...rest, digest } as R;
}

/**
 * True for `docker.io` and its aliases, which share credentials.
 *
 * @example
 * ```ts
 * import { isDockerHub } from "./reference.ts";
 * console.assert(isDockerHub("docker.io") && !isDockerHub("ghcr.io"));
 * ```
 */
export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_ALIASES.has(registry);
}
