/**
 * The tool's name and version, taken from deno.json so there is one source.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** The released version of artifact-cli. */
export const VERSION: string = denoJson.version;

/** Manifest annotation naming the tool that pushed an artifact. */
export const TOOL_ANNOTATION = "dev.educates.artifact-cli.tool";
/** Manifest annotation holding the version of the tool that pushed it. */
export const VERSION_ANNOTATION = "dev.educates.artifact-cli.version";
/** The value of {@link TOOL_ANNOTATION}. */
export const TOOL_NAME = "artifact-cli";
