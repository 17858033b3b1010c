import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

Deno.test("a push that finds some blobs present still mounts the others from where the cache saw them", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = {
    HOME: dir.path,
    DOCKER_CONFIG: join(dir.path, ".docker"),
    ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
    REGISTRY_AUTH_FILE: join(dir.path, "no-auth.json"),
  };
  const amd = await makeSampleTree(join(dir.path, "amd"));
  const arm = join(dir.path, "arm");
  await Deno.mkdir(arm);
  await Deno.writeTextFile(join(arm, "only-arm.txt"), "arm64 content\n");
  const host = registry.host;
  assert.equal((await runCli(["push", `${host}/team/b:amd`, amd], { env })).code, 0);
  assert.equal((await runCli(["push", `${host}/team/a:arm`, arm], { env })).code, 0);
  const before = (await registry.settledRequests()).length;

  // team/b has the amd64 layer already (HEAD 200); the arm64 layer is only in team/a.
  const push = await runCli([
    "push",
    `${host}/team/b:multi`,
    "--platform",
    `linux/amd64=${amd}`,
    "--platform",
    `linux/arm64=${arm}`,
  ], { env });
  assert.equal(push.code, 0, push.stderr);
  const after =
    (await registry.settledRequests((l) =>
      l.some((x) => x.startsWith("PUT /v2/team/b/manifests/multi"))
    )).slice(before);
  const log = after.join("\n");
  assert.ok(after.some((l) => /^HEAD \/v2\/team\/b\/blobs\/sha256:\w+ 200$/.test(l)), log);
  assert.equal(
    after.filter((l) =>
      /^POST \/v2\/team\/b\/blobs\/uploads\/\?mount=.*&from=team%2Fa 201$/.test(l)
    )
      .length,
    1,
    log,
  );
});
