/**
 * Transient and persistent registry faults, injected by the fault proxy in
 * front of the real registry, against the CLI as a subprocess. Retries wait
 * 1 ms (ARTIFACT_CLI_RETRY_BASE_MS) except where Retry-After says otherwise.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { type FaultRule, type SeenRequest, startFaultProxy } from "./support/fault_proxy.ts";
import { startRegistry } from "./support/registry.ts";
import {
  assertFailure,
  blobPath,
  existingOutput,
  isolatedEnv,
  makeTree,
  plannedDigests,
  privateTmp,
  push,
} from "./support/registry_scenario.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const count = (seen: SeenRequest[], method: string, path: RegExp) =>
  seen.filter((r) => r.method === method && path.test(r.path)).length;

/** A registry holding `team/app:v1` (a ~300 KB layer) and a proxy in front with `rules`. */
async function servedTree(
  dir: string,
  rules: (pushed: Awaited<ReturnType<typeof push>>) => FaultRule[],
) {
  const registry = await startRegistry();
  const env = isolatedEnv(dir);
  const src = await makeTree(join(dir, "src"), 300_000);
  const pushed = await push(`${registry.host}/team/app:v1`, src, env);
  const proxy = await startFaultProxy({ upstream: registry.url, rules: rules(pushed) });
  return {
    registry,
    proxy,
    env,
    src,
    pushed,
    ref: `${proxy.host}/team/app:v1`,
    async [Symbol.asyncDispose]() {
      await proxy.stop();
      await registry.stop();
    },
  };
}

Deno.test("pull through 503 with Retry-After, 429, 500 and twice-dropped blob connections succeeds, resuming with Range", async () => {
  await using dir = await tempDir();
  await using s = await servedTree(dir.path, (pushed) => [
    {
      method: "GET",
      path: /\/manifests\/v1$/,
      fault: { kind: "status", status: 503, headers: { "Retry-After": "1" } },
    },
    { method: "GET", path: /\/manifests\/v1$/, fault: { kind: "status", status: 429 } },
    { method: "GET", path: blobPath(pushed.config.digest), fault: { kind: "status", status: 500 } },
    {
      method: "GET",
      path: blobPath(pushed.layers[0].digest),
      fault: { kind: "drop-response", afterBytes: 100_000 },
    },
    {
      method: "GET",
      path: blobPath(pushed.layers[0].digest),
      fault: { kind: "drop-response", afterBytes: 50_000 },
    },
  ]);
  const out = join(dir.path, "out");
  const pull = await runCli(["pull", s.ref, "-o", out, "--debug"], { env: s.env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out, { modes: true }), describeTree(s.src, { modes: true }));
  assert.deepEqual(
    await Deno.readFile(join(out, "random.bin")),
    await Deno.readFile(join(s.src, "random.bin")),
  );
  const layerGets = s.proxy.seen.filter((r) =>
    r.method === "GET" && blobPath(s.pushed.layers[0].digest).test(r.path)
  );
  assert.deepEqual(layerGets.map((r) => r.headers.range), [
    undefined,
    "bytes=100000-",
    "bytes=150000-",
  ]);
  assert.equal(count(s.proxy.seen, "GET", /\/manifests\/v1$/), 3);
  assert.equal(count(s.proxy.seen, "GET", blobPath(s.pushed.config.digest)), 2);
  // The server's Retry-After (1 s) wins over the 1 ms backoff.
  assert.match(pull.stderr, /retry 2\/5 of GET \S+\/manifests\/v1 in 1000 ms \(Retry-After: 1\)/);
  assert.match(pull.stderr, /download dropped after 100000 bytes; resuming/);
});

Deno.test("push through a dropped streamed upload, 500 on PATCH, 503 on the final PUT, a dropped monolithic PUT, 500 on HEAD and 429 on the manifest succeeds", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  // Over 1 MiB, so the layer goes up as a streamed PATCH.
  const src = await makeTree(join(dir.path, "src"), 1536 * 1024);
  const planned = await plannedDigests(src, join(dir.path, "scratch"), env);
  const layer = planned.layers[0];
  assert.ok(layer.size > 1024 * 1024);
  const hex = (digest: string) => digest.replace("sha256:", "sha256%3A");
  await using proxy = await startFaultProxy({
    upstream: registry.url,
    rules: [
      { method: "HEAD", path: blobPath(layer.digest), fault: { kind: "status", status: 500 } },
      { method: "PATCH", fault: { kind: "drop-request", afterBytes: 300_000 } },
      { method: "PATCH", fault: { kind: "status", status: 500 } },
      {
        method: "PUT",
        path: new RegExp(`digest=${hex(layer.digest)}$`),
        fault: { kind: "status", status: 503 },
      },
      {
        method: "PUT",
        path: new RegExp(`digest=${hex(planned.config.digest)}$`),
        fault: { kind: "drop-request", afterBytes: 1 },
      },
      { method: "PUT", path: /\/manifests\/v1$/, fault: { kind: "status", status: 429 } },
    ],
  });
  const result = await runCli(["push", `${proxy.host}/team/app:v1`, src, "--debug"], { env });
  assert.equal(result.code, 0, result.stderr);
  // A dropped or 500 PATCH resumes in its session (a status GET each); the failed final
  // PUT and the dropped monolithic PUT start again: 2 sessions for the layer, 2 for the config.
  assert.equal(count(proxy.seen, "POST", /\/blobs\/uploads\/$/), 4);
  assert.equal(count(proxy.seen, "GET", /\/blobs\/uploads\//), 2);
  assert.equal(count(proxy.seen, "PATCH", /\/blobs\/uploads\//), 4);
  assert.equal(count(proxy.seen, "PUT", /\/manifests\/v1$/), 2);
  assert.match(result.stderr, new RegExp(`upload of ${layer.digest} failed .*; restarting`));

  // What the registry holds (read directly, not through the proxy) is the tree, verified.
  const out = join(dir.path, "out");
  const pull = await runCli(["pull", `${registry.host}/team/app:v1`, "-o", out], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out, { modes: true }), describeTree(src, { modes: true }));
});

Deno.test("slow answers (a delayed manifest, a blob trickling in 16 KiB pieces) still give the whole tree", async () => {
  await using dir = await tempDir();
  await using s = await servedTree(dir.path, (pushed) => [
    { method: "GET", path: /\/manifests\/v1$/, fault: { kind: "delay", ms: 300 } },
    {
      method: "GET",
      path: blobPath(pushed.layers[0].digest),
      fault: { kind: "slow-body", chunkBytes: 16384, delayMs: 5 },
    },
  ]);
  const out = join(dir.path, "out");
  const pull = await runCli(["pull", s.ref, "-o", out], { env: s.env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out, { modes: true }), describeTree(s.src, { modes: true }));
  assert.equal(s.proxy.seen.filter((r) => r.fault === "slow-body").length, 1);
});

Deno.test("a registry that goes silent (no answer; a body that stops) is given up on after the idle timeout and retried", async () => {
  await using dir = await tempDir();
  await using s = await servedTree(dir.path, (pushed) => [
    { method: "GET", path: /\/manifests\/v1$/, fault: { kind: "delay", ms: 3000 } },
    {
      method: "GET",
      path: blobPath(pushed.layers[0].digest),
      fault: { kind: "stall-response", afterBytes: 100_000, ms: 3000 },
    },
  ]);
  const out = join(dir.path, "out");
  const pull = await runCli(["pull", s.ref, "-o", out, "--debug"], {
    env: { ...s.env, ARTIFACT_CLI_IDLE_TIMEOUT_MS: "300" },
  });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out, { modes: true }), describeTree(s.src, { modes: true }));
  assert.equal(count(s.proxy.seen, "GET", /\/manifests\/v1$/), 2);
  const blobGets = s.proxy.seen.filter((r) =>
    r.method === "GET" && blobPath(s.pushed.layers[0].digest).test(r.path)
  );
  assert.equal(blobGets.length, 2);
  assert.match(blobGets[1].headers.range ?? "", /^bytes=100000-$/);
  // Both stalls were abandoned by the idle timeout, not waited out.
  assert.equal(pull.stderr.match(/nothing received for 0\.3 s/g)?.length, 2, pull.stderr);
});

Deno.test("a blob answering 503 every time: pull gives up after 5 attempts, exit 1, one line, output untouched", async () => {
  await using dir = await tempDir();
  await using s = await servedTree(dir.path, (pushed) => [
    {
      method: "GET",
      path: blobPath(pushed.layers[0].digest),
      times: Infinity,
      fault: { kind: "status", status: 503 },
    },
  ]);
  const output = await existingOutput(join(dir.path, "work"));
  const tmp = await privateTmp(dir.path);
  const pull = await runCli(["pull", s.ref, "-o", output.out, "--force"], {
    env: { ...s.env, ...tmp.env },
  });
  tmp.assertEmpty();
  assertFailure(pull, 1, /^error: 127\.0\.0\.1:\d+ answered 503 for blob sha256:\w+ in /);
  assert.equal(count(s.proxy.seen, "GET", blobPath(s.pushed.layers[0].digest)), 5);
  output.assertUntouched();
});

Deno.test("a blob connection dropped every time: pull gives up after 5 tries, exit 1, one line, output untouched", async () => {
  await using dir = await tempDir();
  await using s = await servedTree(dir.path, (pushed) => [
    {
      method: "GET",
      path: blobPath(pushed.layers[0].digest),
      times: Infinity,
      fault: { kind: "drop-response", afterBytes: 20_000 },
    },
  ]);
  const output = await existingOutput(join(dir.path, "work"));
  const tmp = await privateTmp(dir.path);
  const pull = await runCli(["pull", s.ref, "-o", output.out, "--force"], {
    env: { ...s.env, ...tmp.env },
  });
  tmp.assertEmpty();
  assertFailure(pull, 1, /^error: download dropped 5 times \(last at byte 100000\): /);
  assert.equal(count(s.proxy.seen, "GET", blobPath(s.pushed.layers[0].digest)), 5);
  output.assertUntouched();
});

Deno.test("a manifest answering 429 every time: pull gives up after 5 attempts, exit 1, output untouched", async () => {
  await using dir = await tempDir();
  await using s = await servedTree(dir.path, () => [
    {
      method: "GET",
      path: /\/manifests\/v1$/,
      times: Infinity,
      fault: { kind: "status", status: 429 },
    },
  ]);
  const output = await existingOutput(join(dir.path, "work"));
  const tmp = await privateTmp(dir.path);
  const pull = await runCli(["pull", s.ref, "-o", output.out, "--force"], {
    env: { ...s.env, ...tmp.env },
  });
  tmp.assertEmpty();
  assertFailure(pull, 1, /^error: 127\.0\.0\.1:\d+ answered 429 for manifest v1 in /);
  assert.equal(count(s.proxy.seen, "GET", /\/manifests\/v1$/), 5);
  output.assertUntouched();
});

Deno.test("uploads answering 500 every time: push gives up after 5 attempts (resumes and fresh sessions), exit 1, no tag", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const src = await makeTree(join(dir.path, "src"), 1536 * 1024);
  await using proxy = await startFaultProxy({
    upstream: registry.url,
    rules: [{ method: "PATCH", times: Infinity, fault: { kind: "status", status: 500 } }],
  });
  const tmp = await privateTmp(dir.path);
  const result = await runCli(["push", `${proxy.host}/team/app:v1`, src], {
    env: { ...env, ...tmp.env },
  });
  tmp.assertEmpty();
  assertFailure(result, 1, /^error: 127\.0\.0\.1:\d+ answered 500 for upload of sha256:\w+$/);
  assert.equal(count(proxy.seen, "PATCH", /\/blobs\/uploads\//), 5);
  assert.equal(count(proxy.seen, "PUT", /\/manifests\//), 0);
  const pull = await runCli(["pull", `${registry.host}/team/app:v1`, "-o", join(dir.path, "o")], {
    env,
  });
  assert.equal(pull.code, 3, pull.stderr);
});

Deno.test("upload connections dropped every time: push gives up after 5 attempts (resumes and fresh sessions), exit 1, no tag", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const src = await makeTree(join(dir.path, "src"), 1536 * 1024);
  await using proxy = await startFaultProxy({
    upstream: registry.url,
    rules: [{
      method: "PATCH",
      times: Infinity,
      fault: { kind: "drop-request", afterBytes: 100_000 },
    }],
  });
  const tmp = await privateTmp(dir.path);
  const result = await runCli(["push", `${proxy.host}/team/app:v1`, src], {
    env: { ...env, ...tmp.env },
  });
  tmp.assertEmpty();
  assertFailure(
    result,
    1,
    /^error: PATCH http:\/\/127\.0\.0\.1:\d+\/v2\/team\/app\/blobs\/uploads\/\S+ failed: /,
  );
  assert.equal(count(proxy.seen, "PATCH", /\/blobs\/uploads\//), 5);
  assert.equal(count(proxy.seen, "PUT", /\/manifests\//), 0);
});
