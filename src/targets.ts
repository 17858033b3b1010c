/**
 * Opening the {@link Target} a reference names.
 *
 * @module
 */

import { OciLayout } from "./layout/oci_layout.ts";
import type { Reference } from "./reference.ts";
import { RegistryClient, type RegistryOptions } from "./registry/client.ts";
import { RegistryTarget } from "./registry/registry_target.ts";
import type { Target } from "./target.ts";

/** Options for {@link openTarget}. */
export interface OpenTargetOptions {
  /** The target will be written to (a layout is created if missing; push access is asked). */
  write?: boolean;
  /** How to reach registries (TLS, credentials, debug trace). */
  registry?: RegistryOptions;
}

// One client per registry host and options, so tokens and the scheme are shared
// by every repository a command touches on that host.
const clients = new Map<string, RegistryClient>();

/**
 * The target for a reference.
 *
 * @example
 * ```ts
 * import { parseReference } from "./reference.ts";
 * import { openTarget } from "./targets.ts";
 * const dir = await Deno.makeTempDir();
 * const target = await openTarget(parseReference(`oci:${dir}`), { write: true });
 * console.assert(target.name === `oci:${dir}`);
 * ```
 */
export async function openTarget(ref: Reference, options: OpenTargetOptions = {}): Promise<Target> {
  if (ref.kind === "layout") return await OciLayout.open(ref.path, { create: options.write });
  const registry = options.registry ?? {};
  const key = JSON.stringify([
    ref.registry,
    registry.plainHttp,
    registry.insecure,
    registry.caFile,
    registry.credentials,
  ]);
  let client = clients.get(key);
  if (!client) {
    client = new RegistryClient(ref.registry, registry);
    clients.set(key, client);
  }
  return new RegistryTarget(client, ref.repository, { write: options.write });
}

/** The tag or digest to resolve for a reference (digest wins). */
export function tagOrDigestOf(ref: Reference): string | undefined {
  return ref.digest ?? ref.tag;
}
