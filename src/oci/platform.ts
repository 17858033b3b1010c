/**
 * Platforms (`os/architecture[/variant]`): parsing, normalisation and matching
 * the way containerd's platform matcher does it.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** The platform of an image, as in an index entry or an image config. */
export interface Platform {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** CPU architecture, e.g. `amd64`. */
  architecture: string;
  /** CPU variant, e.g. `v8`. */
  variant?: string;
  /** Operating system version (Windows). */
  "os.version"?: string;
  /** Required operating system features (Windows). */
  "os.features"?: string[];
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  i386: "386",
  i686: "386",
};

/**
 * Normalise a platform: architecture aliases (`x86_64` → `amd64`, `aarch64` →
 * `arm64`), default variants (`arm64` has `v8`, `arm` has `v7`), lower case.
 *
 * @example
 * ```ts
 * import { normalizePlatform } from "./platform.ts";
 * const p = normalizePlatform({ os: "Linux", architecture: "aarch64" });
 * console.assert(p.architecture === "arm64" && p.variant === "v8");
 * ```
 */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  let architecture = platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase() || undefined;
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (platform.architecture.toLowerCase() === "armel") variant ??= "v6";
  if (architecture === "arm64") {
    if (variant === "8") variant = "v8";
    variant ??= "v8";
  } else if (architecture === "arm") {
    if (variant && /^\d$/.test(variant)) variant = `v${variant}`;
    variant ??= "v7";
  } else if (architecture === "amd64" && variant === "v1") {
    variant = undefined;
  }
  const result: Platform = { os: os === "macos" ? "darwin" : os, architecture };
  if (variant) result.variant = variant;
  return result;
}

/**
 * Parse `os/arch[/variant]` as typed on a command line.
 *
 * @example
 * ```ts
 * import { parsePlatform } from "./platform.ts";
 * console.assert(parsePlatform("linux/arm/v7").variant === "v7");
 * ```
 */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new UsageError(
      `invalid platform ${JSON.stringify(text)}: expected os/architecture[/variant]`,
    );
  }
  const platform: Platform = { os: parts[0], architecture: parts[1] };
  if (parts[2]) platform.variant = parts[2];
  return platform;
}

/**
 * `os/arch[/variant]` text of a platform.
 *
 * @example
 * ```ts
 * import { formatPlatform } from "./platform.ts";
 * console.assert(formatPlatform({ os: "linux", architecture: "arm64", variant: "v8" }) === "linux/arm64/v8");
 * ```
 */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

/**
 * Whether an image of platform `candidate` satisfies a request for `wanted`.
 * Both are normalised first; a request without variant matches any variant of
 * that architecture only when the candidate uses the default variant.
 *
 * @example
 * ```ts
 * import { platformMatches } from "./platform.ts";
 * console.assert(platformMatches(
 *   { os: "linux", architecture: "amd64" },
 *   { os: "linux", architecture: "amd64" },
 * ));
 * ```
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  return (w.variant ?? "") === (c.variant ?? "");
}

/**
 * True for the `unknown/unknown` platform that buildx gives attestation manifests.
 *
 * @example
 * ```ts
 * import { isUnknownPlatform } from "./platform.ts";
 * console.assert(isUnknownPlatform({ os: "unknown", architecture: "unknown" }));
 * ```
 */
export function isUnknownPlatform(platform: Platform | undefined): boolean {
  return platform?.os === "unknown" && platform?.architecture === "unknown";
}

/**
 * The platform pulled when none is asked for: `linux/<host architecture>`.
 * Linux even on macOS, because the content is meant for containers.
 * `ARTIFACT_CLI_DEFAULT_PLATFORM` (e.g. `linux/arm64`) overrides it.
 *
 * @example
 * ```ts
 * import { defaultPlatform } from "./platform.ts";
 * console.log(defaultPlatform().architecture); // e.g. "amd64"
 * ```
 */
export function defaultPlatform(): Platform {
  const override = Deno.env.get("ARTIFACT_CLI_DEFAULT_PLATFORM");
  if (override) return normalizePlatform(parsePlatform(override));
  return normalizePlatform({ os: "linux", architecture: Deno.build.arch });
}
