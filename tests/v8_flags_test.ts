/**
 * The V8 flags of scripts/v8_flags.ts (a 1 MiB young generation: lower peak
 * memory at the same speed; an exposed gc for src/gc_hint.ts) only work if
 * every launcher passes them, since they cannot be set from inside the
 * program. These tests run the bundle's shebang for real and check that each
 * other launcher carries the same flags.
 */

import assert from "node:assert/strict";
import { V8_FLAGS } from "../scripts/v8_flags.ts";
import { tempDir } from "./support/tree.ts";

const ROOT = new URL("..", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

/**
 * Prints the size of V8's young generation, which the flags cap at 2 semi-spaces of 1 MiB,
 * and whether `gc` is exposed for src/gc_hint.ts.
 */
const REPORT_NEW_SPACE = `import v8 from "node:v8";
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
console.log(space?.space_size, typeof globalThis.gc);
`;

async function runShebangScript(text: string): Promise<string> {
  await using dir = await tempDir();
  const file = `${dir.path}/cli.js`;
  await Deno.writeTextFile(file, text);
  const script = new URL("scripts/shebang.ts", ROOT).pathname;
  const added = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, file] })
    .output();
  assert.equal(added.code, 0, new TextDecoder().decode(added.stderr));
  const out = await new Deno.Command(file, { env: { NO_COLOR: "1" } }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const written = await Deno.readTextFile(file);
  assert.equal(written.split("\n")[0], `#!/usr/bin/env -S deno run -A ${V8_FLAGS}`);
  assert.ok(written.endsWith(REPORT_NEW_SPACE), "the script's body is kept");
  const [size, gc] = new TextDecoder().decode(out.stdout).trim().split(" ");
  assert.equal(gc, "function", "gc is exposed");
  return size;
}

Deno.test("the bundle's shebang runs it with the young generation capped", async () => {
  const size = Number(await runShebangScript(REPORT_NEW_SPACE));
  assert.ok(size > 0 && size <= 2 * 1024 * 1024, `new space of ${size} bytes`);
});

Deno.test("the shebang replaces an older shebang line instead of adding a second", async () => {
  const size = Number(await runShebangScript(`#!/usr/bin/env -S deno run -A\n${REPORT_NEW_SPACE}`));
  assert.ok(size <= 2 * 1024 * 1024, `new space of ${size} bytes`);
});

Deno.test("every launcher passes the same V8 flags", async () => {
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<string, string>;
  assert.ok(tasks.compile.includes(V8_FLAGS), "deno task compile");
  assert.ok(tasks.install.includes(V8_FLAGS), "deno task install");
  const release = await read(".github/workflows/release.yml");
  assert.match(release, /deno compile [^\n]*--v8-flags=--max-semi-space-size=1,--expose-gc /);
  const flag = V8_FLAGS.replace("--v8-flags=", "");
  for (const path of ["Dockerfile", "scripts/build_image.sh"]) {
    const entrypoint = (await read(path)).split("\n").find((l) =>
      /entrypoint/i.test(l) && l.includes("[")
    );
    assert.ok(entrypoint?.includes(`"--v8-flags=${flag}"`), `${path}: ${entrypoint}`);
  }
  assert.ok((await read("README.md")).includes(`deno install --global -A ${V8_FLAGS}`));
});

Deno.test("a file that is only a shebang line gets ours alone, not both", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/only.js`;
  await Deno.writeTextFile(file, "#!/usr/bin/env node");
  const script = new URL("scripts/shebang.ts", ROOT).pathname;
  const added = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, file] })
    .output();
  assert.equal(added.code, 0, new TextDecoder().decode(added.stderr));
  assert.equal(await Deno.readTextFile(file), `#!/usr/bin/env -S deno run -A ${V8_FLAGS}\n`);
});
