/**
 * Prepends a `deno run` shebang to a bundled file and makes it executable, so
 * `dist/artifact-cli.js` runs as a command.
 */

import { V8_FLAGS } from "./v8_flags.ts";

const path = Deno.args[0];
if (!path) throw new Error("usage: shebang.ts FILE");
const text = await Deno.readTextFile(path);
const shebang = `#!/usr/bin/env -S deno run -A ${V8_FLAGS}\n`;
// An older shebang line is replaced (a file that is nothing but one keeps no body).
const firstLineEnd = text.indexOf("\n");
const body = !text.startsWith("#!") ? text : firstLineEnd < 0 ? "" : text.slice(firstLineEnd + 1);
await Deno.writeTextFile(path, shebang + body);
await Deno.chmod(path, 0o755);
