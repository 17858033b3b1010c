/**
 * `--insecure`: Deno verifies TLS certificates per process and offers no
 * per-connection switch, so the CLI re-runs itself under
 * `--unsafely-ignore-certificate-errors=<hosts>`, limited to the registry
 * hosts named on the command line. Deno itself prints a "DANGER" line then.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { parseReference } from "./reference.ts";

const MARK = "ARTIFACT_CLI_INSECURE_CHILD";

/** Registry hosts among the arguments (anything that parses as a registry reference with a host). */
export function registryHostsIn(args: string[]): string[] {
  const hosts = new Set<string>();
  for (const arg of args) {
    if (arg.startsWith("-") || !arg.includes("/")) continue;
    try {
      const ref = parseReference(arg);
      if (ref.kind === "registry") hosts.add(ref.registry.replace(/^\[(.*)\](:\d+)?$/, "$1"));
    } catch { /* not a reference */ }
  }
  return [...hosts].map((h) => h.replace(/:\d+$/, ""));
}

/**
 * When `--insecure` is given and this process still verifies certificates,
 * run the same command in a child that does not, and return its exit code.
 * Returns undefined when nothing needs to happen.
 */
export async function rerunInsecure(args: string[]): Promise<number | undefined> {
  if (!args.includes("--insecure") || Deno.env.get(MARK) === "1") return undefined;
  if (args.includes("--plain-http")) {
    throw new UsageError("--insecure and --plain-http exclude each other");
  }
  if (Deno.build.standalone) {
    throw new UsageError(
      "--insecure is not available in a compiled binary; trust the registry's CA with --ca-file instead",
    );
  }
  const hosts = registryHostsIn(args);
  const flag = `--unsafely-ignore-certificate-errors${hosts.length ? `=${hosts.join(",")}` : ""}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", flag, Deno.mainModule, ...args],
    env: { [MARK]: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}
