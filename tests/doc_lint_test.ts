/**
 * The JSR package documents itself: `deno doc --lint mod.ts` finds nothing,
 * so a new export without JSDoc or an explicit type, or a public type naming
 * an unexported one, fails the suite here rather than on publish.
 */

import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function docLint(entry: string, cwd: string): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", entry],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

Deno.test("deno doc --lint mod.ts reports no errors", async () => {
  const { code, output } = await docLint("mod.ts", ROOT);
  assert.doesNotMatch(output, /error\[/, output);
  assert.equal(code, 0, output);
});

// The check above passes only if the linter would notice: an undocumented,
// untyped export in a scratch module must fail it.
Deno.test("deno doc --lint fails on an undocumented export", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      "/** A module. @module */\nexport const x = 1 + 1;\nexport function f() {\n  return 1;\n}\n",
    );
    const { code, output } = await docLint("mod.ts", dir);
    assert.notEqual(code, 0, output);
    assert.match(output, /error\[missing-jsdoc\]/);
    assert.match(output, /error\[missing-explicit-type\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
