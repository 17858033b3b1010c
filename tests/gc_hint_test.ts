/**
 * collectGarbage (src/gc_hint.ts) must really collect when the launchers'
 * flags expose gc, and be harmless when they do not.
 */

import assert from "node:assert/strict";
import { V8_FLAGS } from "../scripts/v8_flags.ts";
import { tempDir } from "./support/tree.ts";

const GC_HINT = new URL("../src/gc_hint.ts", import.meta.url).href;

/** Drops an 8 MiB buffer, asks for a collection, and prints whether the buffer is gone. */
const SCRIPT = `import { collectGarbage } from ${JSON.stringify(GC_HINT)};
let ref;
(() => { ref = new WeakRef(new Uint8Array(8 * 1024 * 1024)); })();
await new Promise((resolve) => setTimeout(resolve, 0)); // a WeakRef holds its target to the end of the job
collectGarbage();
console.log(ref.deref() === undefined ? "collected" : "alive");
`;

async function run(flags: string[]): Promise<string> {
  await using dir = await tempDir();
  const file = `${dir.path}/drop.ts`;
  await Deno.writeTextFile(file, SCRIPT);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ...flags, file],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("with the launchers' V8 flags, collectGarbage frees a dropped buffer at once", async () => {
  assert.equal(await run([V8_FLAGS]), "collected");
});

Deno.test("without --expose-gc, collectGarbage does nothing and does not throw", async () => {
  assert.match(await run([]), /^(collected|alive)$/);
});
