import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { startTokenServer } from "./support/token_server.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

Deno.test("token auth: an account that may only pull gets a clear 'access denied' on push (exit 4)", async () => {
  await using dir = await tempDir();
  const users = { writer: "writer-Pass-4411", reader: "reader-Pass-9020" };
  await using tokens = await startTokenServer(dir.path, users, { readOnly: ["reader"] });
  await using registry = await startRegistry({ authYaml: tokens.authYaml });
  const src = await makeSampleTree(join(dir.path, "src"));
  const ref = `${registry.host}/t/app:v1`;
  const env = (user: keyof typeof users) => ({
    HOME: dir.path,
    DOCKER_CONFIG: join(dir.path, ".docker"),
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    REGISTRY_AUTH_FILE: join(dir.path, "none.json"),
    ARTIFACT_CLI_USERNAME: user,
    ARTIFACT_CLI_PASSWORD: users[user],
  });

  const pushed = await runCli(["push", ref, src], { env: env("writer") });
  assert.equal(pushed.code, 0, pushed.stderr);
  const pulled = await runCli(["pull", ref, "-o", join(dir.path, "out")], { env: env("reader") });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(describeTree(join(dir.path, "out")), describeTree(src));

  const denied = await runCli(["push", `${registry.host}/t/app:v2`, src, "--debug"], {
    env: env("reader"),
  });
  assert.equal(denied.code, 4, denied.stderr);
  // Distribution lists the actions of its challenge scope from a Go map: in either order.
  const errors = denied.stderr.split("\n").filter((l) => l.startsWith("error:"))
    .map((l) => l.replace("t/app:push,pull", "t/app:pull,push"));
  assert.deepEqual(errors, [
    `error: access to repository:t/app:pull,push denied by ${registry.host} ` +
    "for the credentials from ARTIFACT_CLI_USERNAME/PASSWORD",
  ]);
  for (const secret of [...Object.values(users), ...tokens.issued]) {
    for (const r of [pushed, pulled, denied]) assert.ok(!`${r.stdout}${r.stderr}`.includes(secret));
  }
});
