/**
 * Prepends a `deno run` shebang to a bundled file and makes it executable, so
 * `dist/artifact-cli.js` runs as a command.
 */

const path = Deno.args[0];
if (!path) throw new Error("usage: shebang.ts FILE");
const text = await Deno.readTextFile(path);
const shebang = "#!/usr/bin/env -S deno run -A\n";
await Deno.writeTextFile(path, text.startsWith("#!") ? text : shebang + text);
await Deno.chmod(path, 0o755);
