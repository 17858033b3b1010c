/**
 * Typed errors. Every failure the tool reports is one of these, and the class
 * decides the process exit code, so library callers and the CLI agree on what
 * went wrong without parsing messages.
 *
 * @module
 */

/** Documented process exit codes. */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  integrity: 5,
} as const;

/** One of the documented exit codes. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/**
 * Base class of every error artifact-cli reports on purpose.
 *
 * @example
 * ```ts
 * import { ArtifactError, ExitCode } from "./errors.ts";
 * const err = new ArtifactError("disk full");
 * console.assert(err.exitCode === ExitCode.error);
 * ```
 */
export class ArtifactError extends Error {
  /** Exit code the CLI uses for this error. */
  readonly exitCode: ExitCode = ExitCode.error;
  /** An error with `message`; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line or an argument is wrong (exit 2). */
export class UsageError extends ArtifactError {
  /** Exit code the CLI uses for this error. */
  override readonly exitCode: ExitCode = ExitCode.usage;
}

/** A reference, tag, manifest or blob does not exist (exit 3). */
export class NotFoundError extends ArtifactError {
  /** Exit code the CLI uses for this error. */
  override readonly exitCode: ExitCode = ExitCode.notFound;
}

/** Authentication or authorisation failed (exit 4). */
export class AuthError extends ArtifactError {
  /** Exit code the CLI uses for this error. */
  override readonly exitCode: ExitCode = ExitCode.auth;
}

/** Content does not match its digest or size (exit 5). */
export class IntegrityError extends ArtifactError {
  /** Exit code the CLI uses for this error. */
  override readonly exitCode: ExitCode = ExitCode.integrity;
}

/**
 * Untrusted input (a manifest, config, index.json, tar header) is malformed.
 * `path` names the offending field, e.g. `layers[2].digest`.
 */
export class ParseError extends ArtifactError {
  /** `path` (e.g. `layers[2].digest`) prefixes the message when given. */
  constructor(message: string, readonly path = "", options?: ErrorOptions) {
    super(path ? `${path}: ${message}` : message, options);
  }
}

/** Unsafe or oversized content refused during extraction (exit 1). */
export class UnsafeContentError extends ArtifactError {}
