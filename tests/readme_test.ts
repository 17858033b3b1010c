/**
 * Every `sh` example of the README runs, as a new user would run it: the
 * install block in the repository (installing into a private root), then
 * every other block in order in one shell, in a scratch directory holding
 * `workshop` (a copy of examples/workshop), against a real registry standing
 * in for `localhost:5000`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startRegistry } from "./support/registry.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The fenced ```sh blocks of a Markdown text, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

async function bash(script: string, cwd: string, env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("every shell example of the README runs and does what it says", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const blocks = shellBlocks(readme);
  assert.ok(blocks.length >= 8, `found ${blocks.length} sh blocks`);
  const install = blocks.filter((b) => b.includes("deno task install"));
  assert.equal(install.length, 1, "one install block");
  const home = join(dir.path, "home");
  await Deno.mkdir(home);
  const installRoot = join(dir.path, "deno-root");
  const env = {
    PATH: `${join(installRoot, "bin")}:${Deno.env.get("PATH")}`,
    HOME: home,
    DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME")!, ".cache", "deno"),
    DENO_INSTALL_ROOT: installRoot,
    DOCKER_CONFIG: join(home, ".docker"),
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    REGISTRY_AUTH_FILE: join(home, "no-auth.json"),
    ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64",
    REGISTRY_TOKEN: "readme-token",
    NO_COLOR: "1",
  };
  const installed = await bash(install[0], ROOT, env);
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, /^\d+\.\d+\.\d+/m);

  const work = join(dir.path, "work");
  await Deno.mkdir(work);
  const copied = await new Deno.Command("cp", {
    args: ["-a", join(ROOT, "examples", "workshop"), join(work, "workshop")],
  }).output();
  assert.ok(copied.success);
  const script = blocks.filter((b) => !install.includes(b)).join("\n")
    .replaceAll("localhost:5000", registry.host);
  const ran = await bash(script, work, env);
  assert.equal(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
  assert.match(ran.stdout, /same files/);
  // What the examples claim: the pulls gave back the workshop, the lock pinned a digest.
  const workshop = describeTree(join(work, "workshop"));
  assert.deepEqual(describeTree(join(work, "out")), workshop);
  assert.deepEqual(describeTree(join(work, "lab")), workshop);
  assert.deepEqual(describeTree(join(work, "lab-arm")), workshop);
  assert.match(await Deno.readTextFile(join(work, "sync.lock.yml")), /sha256:[0-9a-f]{64}/);
  assert.ok(Deno.statSync(join(work, "spec", "spec.yaml")).isFile);
  assert.ok(Deno.statSync(join(work, "usb", "store", "index.json")).isFile);
  assert.match(ran.stdout, /stable/);
  // The SBOM example: listed at the registry and, after copy --referrers, in the layout.
  assert.equal(
    [...ran.stdout.matchAll(/── application\/spdx\+json sha256:[0-9a-f]{64}/g)].length,
    2,
  );
});
