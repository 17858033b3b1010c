/**
 * Test support: running artifact-cli as a real subprocess, as a user would.
 */

import { V8_FLAGS } from "../../scripts/v8_flags.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Output of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The signal that ended the run (set when `timeoutMs` passed and it was killed). */
  signal?: Deno.Signal | null;
}

/** Run `artifact-cli args...` (main.ts under deno) and capture everything. */
export async function runCli(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    entry?: string;
    stdin?: string;
    /** Kill the run (SIGKILL) after this long: a hang fails the test instead of stalling it. */
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", V8_FLAGS, options.entry ?? MAIN, ...args],
    cwd: options.cwd,
    // The content cache is off (a cap of 0) unless a test asks for it: a cached blob would
    // hide a fault a test injects on a download it repeats.
    env: { NO_COLOR: "1", ARTIFACT_CLI_CACHE_MAX_BYTES: "0", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const timer = options.timeoutMs === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    signal: out.signal,
  };
}

/** Run a shell tool (tar, skopeo, ...) and return its output; throws on failure. */
export async function runTool(
  cmd: string,
  args: string[],
  options: { cwd?: string; allowFailure?: boolean } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const result = {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if (!options.allowFailure && result.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  }
  return result;
}

/**
 * Env that keeps a CLI run away from the user's credentials, caches and
 * podman auth file: everything lives under `dir`.
 */
export function isolatedEnv(
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HOME: dir,
    DOCKER_CONFIG: `${dir}/.docker`,
    ARTIFACT_CLI_CACHE_DIR: `${dir}/cache`,
    REGISTRY_AUTH_FILE: `${dir}/no-auth.json`,
    ...extra,
  };
}
