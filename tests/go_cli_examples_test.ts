/**
 * The Go educates artifact-cli's README examples, run as its users type them
 * (`push REF -f DIR -p LIST`, `pull REF -o DIR -p P`, `-u USER -w PASSWORD`,
 * `-v`), against the real registry.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

Deno.test("Go artifact-cli examples: push -f, pull -o, push -f -p LIST, pull -o -p", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path, { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64" });
  const app = await makeSampleTree(join(dir.path, "app-folder"));

  // artifact-cli push ghcr.io/my-user/my-app:1.0.0 -f ./app-folder
  const single = await runCli(["push", `${registry.host}/my-user/my-app:1.0.0`, "-f", app], {
    env,
  });
  assert.equal(single.code, 0, single.stderr);
  // artifact-cli pull ghcr.io/my-user/my-app:1.0.0 -o ./restored-app
  const restored = join(dir.path, "restored-app");
  const pull = await runCli(["pull", `${registry.host}/my-user/my-app:1.0.0`, "-o", restored], {
    env,
  });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(restored), describeTree(app));

  // artifact-cli push ghcr.io/my-user/my-app:1.0.1 -f ./app-folder -p linux/amd64,linux/arm64
  const multi = await runCli([
    "push",
    `${registry.host}/my-user/my-app:1.0.1`,
    "-f",
    app,
    "-p",
    "linux/amd64,linux/arm64",
    "--format",
    "json",
  ], { env });
  assert.equal(multi.code, 0, multi.stderr);
  const platforms = JSON.parse(multi.stdout).manifests.map((
    m: { platform: { architecture: string } },
  ) => m.platform.architecture);
  assert.deepEqual(platforms, ["amd64", "arm64"]);

  // artifact-cli pull ghcr.io/my-user/my-app:1.0.1 -o ./restored-app -p linux/arm64
  const arm = join(dir.path, "restored-arm");
  const pullArm = await runCli([
    "pull",
    `${registry.host}/my-user/my-app:1.0.1`,
    "-o",
    arm,
    "-p",
    "linux/arm64",
    "--format",
    "json",
  ], { env });
  assert.equal(pullArm.code, 0, pullArm.stderr);
  assert.equal(JSON.parse(pullArm.stdout).platform.architecture, "arm64");
  assert.deepEqual(describeTree(arm), describeTree(app));

  // The Go tool's long spelling of push's -p is --platforms.
  const plural = await runCli([
    "push",
    `${registry.host}/my-user/my-app:1.0.2`,
    "--folder",
    app,
    "--platforms",
    "linux/arm64",
    "--format",
    "json",
  ], { env });
  assert.equal(plural.code, 0, plural.stderr);
  assert.equal(JSON.parse(plural.stdout).manifests.length, 1);
});

Deno.test("-v prints each transfer on stderr without a terminal; without it stderr stays empty", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const app = await makeSampleTree(join(dir.path, "app"));
  const store = `oci:${join(dir.path, "store")}:v1`;
  const quiet = await runCli(["push", store, "-f", app], { env });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, "");
  const verbose = await runCli(["push", `${store}2`, "-f", app, "-v"], { env });
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /sha256:[0-9a-f]{12}/);
  const pulled = await runCli(["pull", store, "-o", join(dir.path, "out"), "--verbose"], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stderr, /sha256:[0-9a-f]{12}/);
});

Deno.test("-u USER -w PASSWORD logs in with a warning that never shows the password", async () => {
  await using dir = await tempDir();
  const password = "w-Flag-Secret-31";
  await using registry = await startRegistry({ tls: true, users: { bob: password } });
  const env = isolatedEnv(dir.path);
  const app = await makeSampleTree(join(dir.path, "app"));
  const ref = `${registry.host}/team/app:v1`;
  const tls = ["--ca-file", registry.caFile!];
  const push = await runCli(["push", ref, "-f", app, "-u", "bob", "-w", password, ...tls], { env });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stderr, /warning: --password shows in the process list/);
  const out = join(dir.path, "out");
  const pull = await runCli(["pull", ref, "-o", out, "-u", "bob", "--password", password, ...tls], {
    env,
  });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out), describeTree(app));
  // -u with the password in ARTIFACT_CLI_PASSWORD: no warning.
  const fromEnv = await runCli(["pull", ref, "-o", join(dir.path, "o2"), "-u", "bob", ...tls], {
    env: { ...env, ARTIFACT_CLI_PASSWORD: password },
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.stderr, "");
  const wrong = await runCli([
    "pull",
    ref,
    "-o",
    join(dir.path, "o3"),
    "-u",
    "bob",
    "-w",
    "nope",
    ...tls,
  ], {
    env,
  });
  assert.equal(wrong.code, 4, wrong.stderr);
  for (const result of [push, pull, fromEnv, wrong]) {
    assert.ok(!result.stdout.includes(password) && !result.stderr.includes(password));
  }
  const alone = await runCli(["pull", ref, "-o", join(dir.path, "o4"), "-u", "bob", ...tls], {
    env,
  });
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /^error: --username needs a password/);
});
