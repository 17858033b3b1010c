/**
 * Prepends a `deno run` shebang to a bundled file and makes it executable, so
 * `dist/artifact-cli.js` runs as a command.
 */

import { V8_FLAGS } from "./v8_flags.ts";

const path = Deno.args[0];
if (!path) throw new Error("usage: shebang.ts FILE");
const text = await Deno.readTextFile(path);
const shebang = `#!/usr/bin/env -S deno run -A ${V8_FLAGS}\n`;
const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text;
await Deno.writeTextFile(path, shebang + body);
await Deno.chmod(path, 0o755);
