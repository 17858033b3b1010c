import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { startTokenServer } from "./support/token_server.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

const USER = "alice";
const PASSWORD = "pa55-Secret-Value-9f3";

async function writeDockerConfig(dir: string, config: unknown): Promise<void> {
  await Deno.mkdir(join(dir, ".docker"), { recursive: true });
  await Deno.writeTextFile(join(dir, ".docker", "config.json"), JSON.stringify(config));
}

/** Push then pull `src` with `args`; returns both results (for leak checks). */
async function roundTrip(
  ref: string,
  src: string,
  out: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<CliResult[]> {
  const push = await runCli(["push", ref, src, ...args], { env, stdin });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runCli(["pull", ref, "-o", out, ...args], { env, stdin });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out), describeTree(src));
  return [push, pull];
}

function assertNoSecrets(results: CliResult[], secrets: string[]): void {
  for (const result of results) {
    for (const secret of secrets) {
      assert.ok(!result.stdout.includes(secret), `secret in stdout: ${result.stdout}`);
      assert.ok(!result.stderr.includes(secret), `secret in stderr: ${result.stderr}`);
      const b64 = btoa(`${USER}:${secret}`);
      assert.ok(
        !result.stderr.includes(b64) && !result.stdout.includes(b64),
        "base64 credentials leaked",
      );
    }
  }
}

Deno.test("TLS + htpasswd: credentials from DOCKER_CONFIG, a credential helper, REGISTRY_AUTH_FILE, flags and env", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  const src = await makeSampleTree(join(dir.path, "src"));
  const tls = ["--ca-file", registry.caFile!, "--debug"];
  const results: CliResult[] = [];

  // docker config.json, "auth" as base64 user:password
  await writeDockerConfig(dir.path, {
    auths: { [registry.host]: { auth: btoa(`${USER}:${PASSWORD}`) } },
  });
  results.push(
    ...await roundTrip(
      `${registry.host}/a/b:v1`,
      src,
      join(dir.path, "o1"),
      tls,
      isolatedEnv(dir.path),
    ),
  );

  // a credential helper found on PATH
  const bin = join(dir.path, "bin");
  await Deno.mkdir(bin);
  const helper = join(bin, "docker-credential-testhelper");
  await Deno.writeTextFile(
    helper,
    `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${registry.host}" ] && ` +
      `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server" && exit 0\n` +
      `echo "credentials not found in native keychain"; exit 1\n`,
  );
  await Deno.chmod(helper, 0o755);
  await writeDockerConfig(dir.path, { credHelpers: { [registry.host]: "testhelper" } });
  const helperEnv = isolatedEnv(dir.path, { PATH: `${bin}:${Deno.env.get("PATH")}` });
  results.push(
    ...await roundTrip(`${registry.host}/a/c:v1`, src, join(dir.path, "o2"), tls, helperEnv),
  );

  // podman's auth file
  await writeDockerConfig(dir.path, {});
  const podman = join(dir.path, "podman-auth.json");
  await Deno.writeTextFile(
    podman,
    JSON.stringify({ auths: { [registry.host]: { auth: btoa(`${USER}:${PASSWORD}`) } } }),
  );
  const podmanEnv = { ...isolatedEnv(dir.path), REGISTRY_AUTH_FILE: podman };
  results.push(
    ...await roundTrip(`${registry.host}/a/d:v1`, src, join(dir.path, "o3"), tls, podmanEnv),
  );

  // flags, password on stdin
  results.push(
    ...await roundTrip(
      `${registry.host}/a/e:v1`,
      src,
      join(dir.path, "o4"),
      [...tls, "--username", USER, "--password-stdin"],
      isolatedEnv(dir.path),
      `${PASSWORD}\n`,
    ),
  );

  // environment variables
  const envCreds = isolatedEnv(dir.path, {
    ARTIFACT_CLI_USERNAME: USER,
    ARTIFACT_CLI_PASSWORD: PASSWORD,
  });
  results.push(
    ...await roundTrip(`${registry.host}/a/f:v1`, src, join(dir.path, "o5"), tls, envCreds),
  );

  assert.ok(
    results.some((r) =>
      /debug: PUT https:\/\/127\.0\.0\.1:\d+\/v2\/a\/b\/manifests\/v1 -> 201/.test(r.stderr)
    ),
  );
  assertNoSecrets(results, [PASSWORD]);
});

Deno.test("a wrong password or no credentials exits 4 with one line and no secret", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  const src = await makeSampleTree(join(dir.path, "src"));
  const wrong = "Wrong-Password-7c1";
  await writeDockerConfig(dir.path, {
    auths: { [`https://${registry.host}`]: { username: USER, password: wrong } },
  });
  const results: CliResult[] = [];
  for (
    const command of [["push", `${registry.host}/a/b:v1`, src], [
      "pull",
      `${registry.host}/a/b:v1`,
      "-o",
      join(dir.path, "o"),
    ]]
  ) {
    const result = await runCli([...command, "--ca-file", registry.caFile!, "--debug"], {
      env: isolatedEnv(dir.path),
    });
    assert.equal(result.code, 4, result.stderr);
    const errors = result.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.deepEqual(errors.length, 1);
    assert.match(
      errors[0],
      /authentication failed for 127\.0\.0\.1:\d+ \(credentials from docker config/,
    );
    results.push(result);
  }
  assertNoSecrets(results, [wrong, PASSWORD]);

  await writeDockerConfig(dir.path, {});
  const anonymous = await runCli([
    "pull",
    `${registry.host}/a/b:v1`,
    "-o",
    join(dir.path, "o"),
    "--ca-file",
    registry.caFile!,
  ], {
    env: isolatedEnv(dir.path),
  });
  assert.equal(anonymous.code, 4);
  assert.match(
    anonymous.stderr,
    /^error: authentication required for 127\.0\.0\.1:\d+: no credentials found/,
  );
});

Deno.test("token auth: basic credentials and identity tokens get bearer tokens that never show", async () => {
  await using dir = await tempDir();
  const REFRESH = "refresh-Token-Value-55aa";
  await using tokens = await startTokenServer(dir.path, { [USER]: PASSWORD }, {
    refreshToken: REFRESH,
  });
  await using registry = await startRegistry({ authYaml: tokens.authYaml });
  const src = await makeSampleTree(join(dir.path, "src"));
  const results: CliResult[] = [];

  await writeDockerConfig(dir.path, {
    auths: { [registry.host]: { auth: btoa(`${USER}:${PASSWORD}`) } },
  });
  results.push(
    ...await roundTrip(
      `${registry.host}/t/app:v1`,
      src,
      join(dir.path, "o1"),
      ["--debug"],
      isolatedEnv(dir.path),
    ),
  );
  assert.ok(
    tokens.requests.some((r) => r.includes("repository:t/app:pull,push")),
    tokens.requests.join("\n"),
  );

  await writeDockerConfig(dir.path, { auths: { [registry.host]: { identitytoken: REFRESH } } });
  results.push(
    ...await roundTrip(
      `${registry.host}/t/id:v1`,
      src,
      join(dir.path, "o2"),
      ["--debug"],
      isolatedEnv(dir.path),
    ),
  );
  assert.ok(tokens.requests.some((r) => r.startsWith("POST /token")));

  await writeDockerConfig(dir.path, { auths: { [registry.host]: { auth: btoa(`${USER}:nope`) } } });
  const denied = await runCli(["pull", `${registry.host}/t/app:v1`, "-o", join(dir.path, "o3")], {
    env: isolatedEnv(dir.path),
  });
  assert.equal(denied.code, 4, denied.stderr);
  results.push(denied);

  assert.ok(tokens.issued.length >= 2);
  assertNoSecrets(results, [PASSWORD, REFRESH, ...tokens.issued]);
});
