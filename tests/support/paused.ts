/**
 * Test support: running the CLI until it reaches a pause point
 * (ARTIFACT_CLI_TEST_PAUSE_AT, see src/pause_point.ts), so a test can
 * `kill -9` it at exactly that moment — no sleeps, no timing.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A CLI process stopped at a pause point. */
export interface PausedCli {
  /** The pid of the deno process itself (what to kill). */
  pid: number;
  /** Everything it wrote to stderr up to the pause. */
  stderr: string;
  /** SIGKILL it and wait until it is gone. */
  kill(): Promise<void>;
  /** Send a catchable signal and wait for the exit: its code and the rest of stderr. */
  signal(signal: Deno.Signal): Promise<{ code: number; stderr: string }>;
}

/** Options for {@link runUntilPaused}. */
export interface PauseOptions {
  cwd?: string;
  /** Command and arguments the deno command line is appended to (e.g. `unshare -m sh -c ...`). */
  wrapper?: string[];
  /** More environment for the CLI (e.g. TMPDIR). */
  env?: Record<string, string>;
}

/**
 * Start `artifact-cli args...` with the pause point set and resolve once it
 * reports being paused there. Rejects (after reaping the process) if it exits
 * without reaching the point.
 */
export async function runUntilPaused(
  args: string[],
  point: string,
  options: PauseOptions = {},
): Promise<PausedCli> {
  const argv = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
  const [cmd, ...rest] = [...(options.wrapper ?? []), ...argv];
  const child = new Deno.Command(cmd, {
    args: rest,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env, ARTIFACT_CLI_TEST_PAUSE_AT: point },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let stderr = "";
  for (;;) {
    const match = new RegExp(`paused at ${point} \\(pid (\\d+)\\)`).exec(stderr);
    if (match) {
      const pid = Number(match[1]);
      return {
        pid,
        stderr,
        async kill() {
          Deno.kill(pid, "SIGKILL");
          await reader.cancel().catch(() => {});
          await child.status;
        },
        async signal(signal: Deno.Signal) {
          Deno.kill(pid, signal);
          let rest = "";
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            rest += decoder.decode(value, { stream: true });
          }
          return { code: (await child.status).code, stderr: rest };
        },
      };
    }
    const { done, value } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(`exited (${status.code}) without pausing at ${point}: ${stderr}`);
    }
    stderr += decoder.decode(value, { stream: true });
  }
}
