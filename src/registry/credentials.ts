/**
 * Registry credentials, looked up in this order:
 *
 * 1. flags (`--username` with `--password-stdin`, `ARTIFACT_CLI_PASSWORD` or `--password`);
 * 2. `ARTIFACT_CLI_USERNAME` / `ARTIFACT_CLI_PASSWORD`;
 * 3. docker's config.json (`$DOCKER_CONFIG/config.json`, else
 *    `~/.docker/config.json`): `credHelpers[host]`, then `credsStore`, then
 *    `auths` (`auth` base64 `user:password`, `username`/`password`,
 *    `identitytoken`);
 * 4. podman's auth file (`$REGISTRY_AUTH_FILE`, else
 *    `$XDG_RUNTIME_DIR/containers/auth.json`, else
 *    `~/.config/containers/auth.json`).
 *
 * Helpers speak docker's `docker-credential-<name> get|store|erase` protocol.
 * Login and logout write config.json (or the helper) as docker does.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { AuthError } from "../errors.ts";
import { writeFileAtomic } from "../layout/atomic.ts";
import { isDockerHub } from "../reference.ts";
import { NAMED_FILE_LIMITS, readNamedTextFile } from "../fs/named_file.ts";
import { runCredentialHelper } from "./credential_helper.ts";

/** Credentials for one registry. Never printed. */
export interface Credential {
  username?: string;
  password?: string;
  /** A refresh token (docker's `identitytoken`), used instead of a password. */
  identityToken?: string;
  /** Where it came from, e.g. `docker config (~/.docker/config.json)`; safe to print. */
  source: string;
}

/** Credentials given explicitly (flags). */
export interface ExplicitCredentials {
  /** User name. */
  username?: string;
  /** Password or token. */
  password?: string;
  /** Where they were given, for messages (default "command line"). */
  source?: string;
}

/** Docker Hub's key in config.json and for credential helpers. */
export const DOCKER_HUB_SERVER = "https://index.docker.io/v1/";

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

/** The server name docker uses for a registry (in config.json and helpers). */
export function serverKey(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_SERVER : registry;
}

/** Normalise a config key or registry: no scheme, no path, lower case; hub aliases unified. */
function normaliseHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").split("/")[0].toLowerCase();
  return isDockerHub(host) ? "docker.io" : host;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(): string {
  const dir = Deno.env.get("DOCKER_CONFIG") ?? join(Deno.env.get("HOME") ?? ".", ".docker");
  return join(dir, "config.json");
}

function podmanAuthPaths(): string[] {
  const explicit = Deno.env.get("REGISTRY_AUTH_FILE");
  if (explicit) return [explicit];
  const paths: string[] = [];
  const runtime = Deno.env.get("XDG_RUNTIME_DIR");
  if (runtime) paths.push(join(runtime, "containers", "auth.json"));
  const home = Deno.env.get("HOME");
  if (home) paths.push(join(home, ".config", "containers", "auth.json"));
  return paths;
}

/** Where a credential file's name came from, for error lines. */
function configSource(path: string): string {
  if (path === Deno.env.get("REGISTRY_AUTH_FILE")) return "REGISTRY_AUTH_FILE";
  if (path === dockerConfigPath()) {
    return Deno.env.get("DOCKER_CONFIG") ? "DOCKER_CONFIG" : "docker config";
  }
  return "podman auth file";
}

async function readConfig(path: string): Promise<DockerConfig | undefined> {
  const text = await readNamedTextFile(path, {
    source: configSource(path),
    maxBytes: NAMED_FILE_LIMITS.credentialFile,
    role: "auth",
    optional: true,
  });
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error("not an object");
    }
    return value as DockerConfig;
  } catch (e) {
    throw new AuthError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * The entry of `map` for `registry`. A key naming the host (`host`,
 * `host:port`, `https://host/...`) wins over podman's per-namespace keys
 * (`host/namespace`), which are used only when the host has no key of its own.
 */
function entryFor<T>(map: Record<string, T> | undefined, registry: string): T | undefined {
  if (!map || typeof map !== "object") return undefined;
  const wanted = normaliseHost(registry);
  let namespaced: T | undefined;
  for (const [key, value] of Object.entries(map)) {
    if (normaliseHost(key) !== wanted) continue;
    if (/^[a-z]+:\/\//i.test(key) || !/\/./.test(key)) return value;
    namespaced ??= value;
  }
  return namespaced;
}

function fromAuthEntry(entry: AuthEntry, source: string): Credential | undefined {
  if (entry.identitytoken) {
    return { username: entry.username, identityToken: entry.identitytoken, source };
  }
  if (entry.auth) {
    let decoded: string;
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(entry.auth), (c) => c.charCodeAt(0)));
    } catch {
      throw new AuthError(`${source}: the "auth" entry is not valid base64`);
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new AuthError(`${source}: the "auth" entry is not user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (entry.username && entry.password) {
    return { username: entry.username, password: entry.password, source };
  }
  return undefined;
}

/**
 * Find credentials for `registry` (host[:port]); undefined means anonymous.
 *
 * @example
 * ```ts ignore
 * const credential = await findCredential("ghcr.io", {});
 * ```
 */
export async function findCredential(
  registry: string,
  explicit: ExplicitCredentials = {},
): Promise<Credential | undefined> {
  if (explicit.username !== undefined || explicit.password !== undefined) {
    if (!explicit.username || explicit.password === undefined) {
      throw new AuthError("--username and --password-stdin must be given together");
    }
    return {
      username: explicit.username,
      password: explicit.password,
      source: explicit.source ?? "command line",
    };
  }
  const envUser = Deno.env.get("ARTIFACT_CLI_USERNAME");
  const envPassword = Deno.env.get("ARTIFACT_CLI_PASSWORD");
  if (envUser && envPassword !== undefined) {
    return { username: envUser, password: envPassword, source: "ARTIFACT_CLI_USERNAME/PASSWORD" };
  }
  const configPath = dockerConfigPath();
  const config = await readConfig(configPath);
  if (config) {
    const helper = entryFor(config.credHelpers, registry);
    if (helper) return await helperGet(helper, registry);
    if (config.credsStore) {
      const stored = await helperGet(config.credsStore, registry);
      if (stored) return stored;
    }
    const entry = entryFor(config.auths, registry);
    const found = entry && fromAuthEntry(entry, `docker config (${configPath})`);
    if (found) return found;
  }
  for (const path of podmanAuthPaths()) {
    const auth = await readConfig(path);
    const entry = entryFor(auth?.auths, registry);
    const found = entry && fromAuthEntry(entry, `podman auth file (${path})`);
    if (found) return found;
  }
  return undefined;
}

async function helperGet(name: string, registry: string): Promise<Credential | undefined> {
  const out = await runCredentialHelper(name, "get", serverKey(registry));
  const stdout = out.stdout;
  if (!out.success) {
    const message = `${stdout} ${out.stderr}`;
    if (/credentials not found|not found in native keychain/i.test(message)) return undefined;
    throw new AuthError(`credential helper docker-credential-${name} failed (exit ${out.code})`);
  }
  let value: { Username?: string; Secret?: string };
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new AuthError(`credential helper docker-credential-${name} printed invalid JSON`);
  }
  if (!value.Secret) return undefined;
  const source = `credential helper docker-credential-${name}`;
  if (value.Username === "<token>") return { identityToken: value.Secret, source };
  return { username: value.Username, password: value.Secret, source };
}

/**
 * Save credentials the way `docker login` does: in the registry's credential
 * helper when one is configured, else as base64 `auth` in config.json
 * (created with mode 0600). Returns where they went.
 */
export async function storeCredential(
  registry: string,
  username: string,
  password: string,
): Promise<string> {
  const path = dockerConfigPath();
  const config = (await readConfig(path)) ?? {};
  const key = serverKey(registry);
  const helper = entryFor(config.credHelpers, registry) ?? config.credsStore;
  config.auths ??= {};
  for (const existing of Object.keys(config.auths)) {
    if (normaliseHost(existing) === normaliseHost(registry) && existing !== key) {
      delete config.auths[existing];
    }
  }
  let where: string;
  if (helper) {
    const out = await runCredentialHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: key, Username: username, Secret: password }),
    );
    if (!out.success) {
      throw new AuthError(`credential helper docker-credential-${helper} could not store`);
    }
    where = `credential helper docker-credential-${helper}`;
    if (config.credsStore && !entryFor(config.credHelpers, registry)) config.auths[key] = {};
  } else {
    config.auths[key] = {
      auth: btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`))),
    };
    where = path;
  }
  await writeConfig(path, config);
  return where;
}

/** Remove stored credentials, as `docker logout` does; false when there were none. */
export async function eraseCredential(registry: string): Promise<boolean> {
  const path = dockerConfigPath();
  const config = await readConfig(path);
  if (!config) return false;
  let removed = false;
  const helper = entryFor(config.credHelpers, registry) ?? config.credsStore;
  if (helper) {
    const out = await runCredentialHelper(helper, "erase", serverKey(registry));
    removed = out.success;
  }
  for (const key of Object.keys(config.auths ?? {})) {
    if (normaliseHost(key) === normaliseHost(registry)) {
      delete config.auths![key];
      removed = true;
    }
  }
  await writeConfig(path, config);
  return removed;
}

async function writeConfig(path: string, config: DockerConfig): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // A linked config.json (dotfiles managers do this) is written at its target, as docker does.
  const target = await Deno.realPath(path).catch(() => path);
  await writeFileAtomic(
    target,
    new TextEncoder().encode(`${JSON.stringify(config, null, "\t")}\n`),
    0o600,
  );
}
