/**
 * Asking the user for a value on the terminal, optionally without echo.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/**
 * Read one line from the terminal. With `hidden`, typed characters are not
 * shown (for passwords). Fails with a usage error when stdin is not a terminal.
 */
export async function promptLine(question: string, hidden = false): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      `${question.replace(/:\s*$/, "")} is needed but standard input is not a terminal`,
    );
  }
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(question));
  if (hidden) Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(1);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      const byte = buffer[0];
      if (byte === 0x0d || byte === 0x0a) break;
      if (byte === 0x03) throw new UsageError("interrupted");
      if (byte === 0x7f || byte === 0x08) {
        bytes.pop();
        continue;
      }
      bytes.push(byte);
    }
  } finally {
    if (hidden) {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(encoder.encode("\n"));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
