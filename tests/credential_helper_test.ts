/**
 * Credential helpers run with a deadline and a cap on what they print; a
 * helper name with path characters is never run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";

const HANG_MS = 40_000;

async function helperSetup(dir: string, name: string, script: string) {
  const bin = join(dir, `bin-${name}`);
  await Deno.mkdir(bin);
  await Deno.writeTextFile(join(bin, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`);
  await Deno.chmod(join(bin, `docker-credential-${name}`), 0o755);
  return bin;
}

async function pullWith(
  dir: string,
  registry: { host: string; caFile?: string },
  config: unknown,
  extra: Record<string, string> = {},
) {
  const docker = await Deno.makeTempDir({ dir });
  await Deno.writeTextFile(join(docker, "config.json"), JSON.stringify(config));
  const env = isolatedEnv(dir, { DOCKER_CONFIG: docker, ...extra });
  const out = join(await Deno.makeTempDir({ dir }), "out");
  const args = ["pull", `${registry.host}/a:v1`, "-o", out, "--ca-file", registry.caFile!];
  return await runCli(args, { env, timeoutMs: HANG_MS });
}

Deno.test("credential helpers that hang, fork a hanging child or flood their output are stopped: one line, exit 4", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { u: "p" } });
  const cases = [
    {
      name: "sleeper",
      script: "exec sleep 3600",
      says: /did not finish within 2 s; it was stopped/,
    },
    // The helper exits but a child keeps its stdout open.
    { name: "forker", script: "sleep 3600 &\nexit 0", says: /did not finish within 2 s/ },
    { name: "flood", script: "exec yes aaaaaaaaaaaaaaaa", says: /printed more than 1048576 bytes/ },
    { name: "errflood", script: "yes bbbb >&2", says: /printed more than 1048576 bytes/ },
  ];
  await Promise.all(cases.flatMap(({ name, script, says }) => {
    const run = async (config: unknown) => {
      const bin = await helperSetup(await Deno.makeTempDir({ dir: dir.path }), name, script);
      const result = await pullWith(dir.path, registry, config, {
        PATH: `${bin}:${Deno.env.get("PATH")}`,
        ARTIFACT_CLI_CREDENTIAL_HELPER_TIMEOUT: "2s",
      });
      assert.equal(result.signal, null, `${name}: the helper kept the tool waiting`);
      assert.equal(result.code, 4, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.ok(lines[0].includes(`docker-credential-${name}`), result.stderr);
      assert.match(lines[0], says);
    };
    return [run({ credHelpers: { [registry.host]: name } }), run({ credsStore: name })];
  }));
});

Deno.test("a credential helper name with path characters is refused and nothing is run", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { u: "p" } });
  // A program that would be found if the name were resolved as a path.
  const marker = join(dir.path, "ran");
  const evil = join(dir.path, "docker-credential-x");
  await Deno.mkdir(join(dir.path, "sub"));
  await Deno.writeTextFile(
    join(dir.path, "sub", "docker-credential-"),
    `#!/bin/sh\ntouch ${marker}\n`,
  );
  await Deno.writeTextFile(evil, `#!/bin/sh\ntouch ${marker}\n`);
  await Deno.chmod(evil, 0o755);
  for (const name of ["../x", "/bin/sh", "x/../../y", ".hidden", "a b", "a;touch"]) {
    for (const config of [{ credHelpers: { [registry.host]: name } }, { credsStore: name }]) {
      const result = await pullWith(dir.path, registry, config);
      assert.equal(result.code, 4, `${name}: ${result.stderr}`);
      assert.match(
        result.stderr.trim(),
        /^error: credential helper name .* is not a plain name/,
        name,
      );
      assert.equal(result.stderr.trim().split("\n").length, 1);
    }
  }
  assert.equal(await Deno.lstat(marker).catch(() => null), null, "a helper ran");
});

Deno.test("a well-behaved credential helper is still used within the deadline", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { u: "p" } });
  const bin = await helperSetup(
    dir.path,
    "good",
    `read server\nprintf '{"ServerURL":"%s","Username":"u","Secret":"p"}' "$server"`,
  );
  const src = join(dir.path, "src");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "a.txt"), "a\n");
  const docker = join(dir.path, "docker");
  await Deno.mkdir(docker);
  await Deno.writeTextFile(
    join(docker, "config.json"),
    JSON.stringify({ credHelpers: { [registry.host]: "good" } }),
  );
  const env = isolatedEnv(dir.path, {
    DOCKER_CONFIG: docker,
    PATH: `${bin}:${Deno.env.get("PATH")}`,
  });
  const push = await runCli(
    ["push", `${registry.host}/a:v1`, src, "--ca-file", registry.caFile!],
    { env, timeoutMs: HANG_MS },
  );
  assert.equal(push.code, 0, push.stderr);
});
