import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

const USER = "bob";
const PASSWORD = "Login-Secret-31f";

Deno.test("login then push with no flags works on a TLS htpasswd registry; logout removes the entry", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  const src = await makeSampleTree(join(dir.path, "src"));
  // The registry's CA is trusted through Deno's DENO_CERT, so no command needs --ca-file.
  const env = {
    HOME: dir.path,
    DOCKER_CONFIG: join(dir.path, "docker"),
    DENO_CERT: registry.caFile!,
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    REGISTRY_AUTH_FILE: join(dir.path, "none.json"),
  };
  const bad = await runCli(["login", registry.host, "-u", USER, "--password-stdin"], {
    env,
    stdin: "wrong\n",
  });
  assert.equal(bad.code, 4, bad.stderr);
  assert.equal(await Deno.stat(join(dir.path, "docker", "config.json")).catch(() => null), null);

  const login = await runCli(["login", registry.host, "-u", USER, "--password-stdin"], {
    env,
    stdin: `${PASSWORD}\n`,
  });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /^Login succeeded for bob at 127\.0\.0\.1:\d+ /);
  const configPath = join(dir.path, "docker", "config.json");
  const config = JSON.parse(await Deno.readTextFile(configPath));
  // Exactly what `docker login` writes: base64 user:password under the host key.
  assert.deepEqual(config, { auths: { [registry.host]: { auth: btoa(`${USER}:${PASSWORD}`) } } });
  assert.equal((await Deno.stat(configPath)).mode! & 0o777, 0o600);

  const push = await runCli(["push", `${registry.host}/team/app:v1`, src], { env });
  assert.equal(push.code, 0, push.stderr);
  for (const result of [bad, login, push]) {
    assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD));
  }

  const logout = await runCli(["logout", registry.host], { env });
  assert.equal(logout.code, 0);
  assert.match(logout.stdout, /^Removed credentials for 127\.0\.0\.1:\d+/);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(configPath)), { auths: {} });
  const again = await runCli(["logout", registry.host], { env });
  assert.match(again.stdout, /^Not logged in/);
  const denied = await runCli(["push", `${registry.host}/team/app:v2`, src], { env });
  assert.equal(denied.code, 4);
});

Deno.test("login stores credentials in the configured credential helper, as docker does", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ users: { [USER]: PASSWORD } });
  const bin = join(dir.path, "bin");
  const store = join(dir.path, "helper-store.json");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "docker-credential-filestore"),
    `#!/bin/sh
case "$1" in
  store) cat > "${store}" ;;
  get) read server; if [ -f "${store}" ]; then cat "${store}"; else echo "credentials not found"; exit 1; fi ;;
  erase) rm -f "${store}" ;;
esac
`,
  );
  await Deno.chmod(join(bin, "docker-credential-filestore"), 0o755);
  await Deno.mkdir(join(dir.path, "docker"));
  await Deno.writeTextFile(
    join(dir.path, "docker", "config.json"),
    JSON.stringify({ credsStore: "filestore" }),
  );
  const env = {
    HOME: dir.path,
    DOCKER_CONFIG: join(dir.path, "docker"),
    PATH: `${bin}:${Deno.env.get("PATH")}`,
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
  };
  const login = await runCli([
    "login",
    registry.host,
    "-u",
    USER,
    "--password-stdin",
    "--format",
    "json",
  ], {
    env,
    stdin: PASSWORD,
  });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(JSON.parse(login.stdout).store, "credential helper docker-credential-filestore");
  assert.deepEqual(JSON.parse(await Deno.readTextFile(store)), {
    ServerURL: registry.host,
    Username: USER,
    Secret: PASSWORD,
  });
  const config = JSON.parse(await Deno.readTextFile(join(dir.path, "docker", "config.json")));
  assert.deepEqual(config, { credsStore: "filestore", auths: { [registry.host]: {} } });
  const src = await makeSampleTree(join(dir.path, "src"));
  assert.equal((await runCli(["push", `${registry.host}/x/y:v1`, src], { env })).code, 0);
  assert.equal((await runCli(["logout", registry.host], { env })).code, 0);
  assert.equal(await Deno.stat(store).catch(() => null), null);
});

Deno.test("login writes through a symlinked config.json to its target, mode 600, keeping the link", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  const dotfiles = join(dir.path, "dotfiles");
  await Deno.mkdir(dotfiles);
  const real = join(dotfiles, "docker-config.json");
  await Deno.writeTextFile(real, JSON.stringify({ auths: {}, credsStore: "" }));
  await Deno.chmod(real, 0o644);
  await Deno.mkdir(join(dir.path, "docker"));
  const link = join(dir.path, "docker", "config.json");
  await Deno.symlink(real, link);
  const env = {
    HOME: dir.path,
    DOCKER_CONFIG: join(dir.path, "docker"),
    DENO_CERT: registry.caFile!,
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    REGISTRY_AUTH_FILE: join(dir.path, "none.json"),
  };
  const login = await runCli(["login", registry.host, "-u", USER, "--password-stdin"], {
    env,
    stdin: `${PASSWORD}\n`,
  });
  assert.equal(login.code, 0, login.stderr);
  assert.ok((await Deno.lstat(link)).isSymlink, "the link is still a link");
  const config = JSON.parse(await Deno.readTextFile(real));
  assert.equal(config.auths[registry.host].auth, btoa(`${USER}:${PASSWORD}`));
  assert.equal((await Deno.stat(real)).mode! & 0o777, 0o600);
});
