/**
 * Running docker's `docker-credential-<name>` helpers (credsStore,
 * credHelpers) without letting one hang or flood the tool: each run has a
 * deadline (30 s, or `ARTIFACT_CLI_CREDENTIAL_HELPER_TIMEOUT`), what it prints
 * is capped (1 MiB per stream), and a helper over either is killed and
 * reported in one line naming it (exit 4). A name with path characters is
 * refused: docker would resolve `../x` relative to the current directory,
 * which lets a config.json run any program on disk.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import { parseDuration } from "../commands/deadline.ts";

/** Bounds on one helper run. */
export const CREDENTIAL_HELPER_LIMITS = {
  /** How long a helper may run. */
  timeoutMs: 30_000,
  /** Most bytes a helper may print on stdout, and separately on stderr. */
  outputBytes: 1024 * 1024,
} as const;

/** The environment variable that sets the deadline, as a duration (`10s`, `2m`). */
export const HELPER_TIMEOUT_ENV = "ARTIFACT_CLI_CREDENTIAL_HELPER_TIMEOUT";

/** What a helper run printed and how it ended. */
export interface HelperOutput {
  success: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Refuse a helper name that is not a plain name (letters, digits, `.`, `_`,
 * `-`; not starting with `.`): the program run is always
 * `docker-credential-<name>` looked up on PATH.
 *
 * @example
 * ```ts
 * import { checkHelperName } from "./credential_helper.ts";
 * checkHelperName("ecr-login");
 * let refused = false;
 * try { checkHelperName("../../tmp/x"); } catch { refused = true; }
 * console.assert(refused);
 * ```
 */
export function checkHelperName(name: string): void {
  if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new AuthError(
      `credential helper name ${
        JSON.stringify(String(name)).slice(0, 120)
      } is not a plain name (letters, digits, ".", "_", "-"); refusing to run it`,
    );
  }
}

function helperTimeout(): number {
  const text = Deno.env.get(HELPER_TIMEOUT_ENV);
  return text ? parseDuration(text, HELPER_TIMEOUT_ENV) : CREDENTIAL_HELPER_LIMITS.timeoutMs;
}

/** Read a stream up to `limit` bytes; undefined once it is over. */
async function readCapped(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
  onOver: () => void,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        onOver();
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * Run `docker-credential-<name> <action>` with `input` on stdin, within the
 * deadline and output caps.
 */
export async function runCredentialHelper(
  name: string,
  action: "get" | "store" | "erase",
  input: string,
): Promise<HelperOutput> {
  checkHelperName(name);
  const program = `docker-credential-${name}`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: [action],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new AuthError(`credential helper ${program} is configured but not installed`);
    }
    throw new AuthError(`credential helper ${program} failed: ${(e as Error).message}`);
  }
  const timeoutMs = helperTimeout();
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  let failure: string | undefined;
  let stop: (e: Error) => void = () => {};
  const stopped = new Promise<never>((_, reject) => stop = reject);
  // Killing the helper is not enough when a child of it still holds the
  // pipes open: the reads are cancelled too, so nothing keeps the tool waiting.
  const kill = (why: string) => {
    if (failure) return;
    failure = why;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    for (const reader of readers) reader.cancel().catch(() => {});
    stop(new AuthError(`credential helper ${program} ${why}; it was stopped`));
  };
  const timer = setTimeout(
    () => kill(`did not finish within ${timeoutMs / 1000} s`),
    timeoutMs,
  );
  const over = () => kill(`printed more than ${CREDENTIAL_HELPER_LIMITS.outputBytes} bytes`);
  try {
    const writer = child.stdin.getWriter();
    const written = writer.write(new TextEncoder().encode(input))
      .then(() => writer.close())
      // A helper may exit without reading its input (e.g. erase); its exit code tells.
      .catch(() => {});
    const [stdout, stderr, status] = await Promise.race([
      Promise.all([
        readCapped(readers[0], CREDENTIAL_HELPER_LIMITS.outputBytes, over),
        readCapped(readers[1], CREDENTIAL_HELPER_LIMITS.outputBytes, over),
        child.status,
        written,
      ]),
      stopped,
    ]);
    if (failure) throw new AuthError(`credential helper ${program} ${failure}; it was stopped`);
    const decoder = new TextDecoder();
    return {
      success: status.success,
      code: status.code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}
