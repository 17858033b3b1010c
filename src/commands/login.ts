/**
 * `login REGISTRY` checks credentials against a registry and stores them as
 * `docker login` does; `logout REGISTRY` removes them.
 *
 * @module
 */

import { Command } from "commander";
import { uiFor } from "../ui/ui_for.ts";
import { UsageError } from "../errors.ts";
import { DOCKER_HUB_REGISTRY, isDockerHub } from "../reference.ts";
import { RegistryClient } from "../registry/client.ts";
import { eraseCredential, serverKey, storeCredential } from "../registry/credentials.ts";
import { promptLine } from "../ui/prompt.ts";
import {
  addRegistryOptions,
  readPasswordFromStdin,
  type RegistryFlags,
  registryOptions,
} from "./registry_options.ts";

/** `https://ghcr.io/v2/` or `ghcr.io` → `ghcr.io`; Docker Hub names → its API host. */
export function registryHost(argument: string): string {
  const host = argument.replace(/^[a-z]+:\/\//i, "").split("/")[0].toLowerCase();
  if (!host) throw new UsageError(`invalid registry ${JSON.stringify(argument)}`);
  return isDockerHub(host) ? DOCKER_HUB_REGISTRY : host;
}

/** The `login` command. */
export function loginCommand(): Command {
  return addRegistryOptions(new Command("login"))
    .description(
      "Log in to a registry: check the credentials, then store them as docker does (in the " +
        "configured credential helper, else in ~/.docker/config.json or $DOCKER_CONFIG).",
    )
    .argument(
      "<registry>",
      "registry host[:port], e.g. ghcr.io or localhost:5000 (docker.io for Docker Hub)",
    )
    .action(async (argument: string, opts: RegistryFlags, command: Command) => {
      const ui = uiFor(command);
      const registry = registryHost(argument);
      const username = opts.username ?? await promptLine("Username: ");
      if (!username) throw new UsageError("a user name is needed");
      // The credentials are checked here, not looked up: only the TLS options apply.
      const options = await registryOptions(
        { ...opts, username: undefined, password: undefined, passwordStdin: false },
        ui,
      );
      if (opts.password !== undefined && opts.passwordStdin) {
        throw new UsageError("--password and --password-stdin exclude each other");
      }
      if (opts.password !== undefined) {
        ui.warn("--password shows in the process list; prefer --password-stdin");
      }
      const password = opts.passwordStdin
        ? await readPasswordFromStdin()
        : opts.password ?? await promptLine("Password: ", true);
      if (!password) throw new UsageError("a password is needed");
      const client = new RegistryClient(registry, {
        ...options,
        credentials: { username, password },
      });
      try {
        const response = await client.send({ method: "GET", url: "/v2/", scopes: [] });
        if (!response.ok) await client.failure(response, `registry ${registry}`);
        await response.body?.cancel();
      } finally {
        client.close();
      }
      const where = await storeCredential(registry, username, password);
      ui.result(
        { registry: serverKey(registry), username, store: where },
        `Login succeeded for ${username} at ${registry} (credentials stored in ${where})`,
      );
    });
}

/** The `logout` command. */
export function logoutCommand(): Command {
  return new Command("logout")
    .description(
      "Remove the stored credentials for a registry (from config.json and its credential helper).",
    )
    .argument("<registry>", "registry host[:port]")
    .action(async (argument: string, _opts: unknown, command: Command) => {
      const ui = uiFor(command);
      const registry = registryHost(argument);
      const removed = await eraseCredential(registry);
      ui.result(
        { registry: serverKey(registry), removed },
        removed ? `Removed credentials for ${registry}` : `Not logged in to ${registry}`,
      );
    });
}
