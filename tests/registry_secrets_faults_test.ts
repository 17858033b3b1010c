/**
 * Secrets through the real registry and the fault proxy: credentials and
 * tokens never appear in any output (stdout, stderr, `--debug` traces, error
 * lines) on success and failure paths, and redirected blob downloads never
 * carry the Authorization header to the other server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, runCli } from "./support/cli.ts";
import { type FaultRule, startFaultProxy } from "./support/fault_proxy.ts";
import { freePort, startRegistry } from "./support/registry.ts";
import {
  assertFailure,
  blobPath,
  isolatedEnv,
  makeTree,
  push,
} from "./support/registry_scenario.ts";
import { startTokenServer } from "./support/token_server.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const USER = "alice";
const PASSWORD = "pa55-Secret-Value-4e7";
const WRONG = "Wrong-Secret-Value-b21";
const SIGNATURE = "Signed-Url-Secret-0c9";

/** Every form a secret could leak in: itself, and base64 `user:secret` (a Basic header). */
function leakForms(secrets: string[]): string[] {
  return secrets.flatMap((s) => [s, btoa(`${USER}:${s}`)]);
}

function assertNoSecrets(results: CliResult[], secrets: string[]): void {
  assert.ok(results.length > 0);
  for (const result of results) {
    for (const secret of leakForms(secrets)) {
      assert.ok(!result.stdout.includes(secret), `secret in stdout: ${result.stdout}`);
      assert.ok(!result.stderr.includes(secret), `secret in stderr: ${result.stderr}`);
    }
  }
}

async function writeDockerConfig(dir: string, host: string, password: string): Promise<void> {
  await Deno.mkdir(join(dir, ".docker"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, ".docker", "config.json"),
    JSON.stringify({ auths: { [host]: { auth: btoa(`${USER}:${password}`) } } }),
  );
}

Deno.test("basic auth: the password never shows in any output, with --debug, on success, retries, resets, 500s, 401s and a wrong password", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  await using proxy = await startFaultProxy({ upstream: registry.url, caFile: registry.caFile });
  const env = isolatedEnv(dir.path);
  const src = await makeTree(join(dir.path, "src"), 1536 * 1024);
  const ref = `${proxy.host}/team/app:v1`;
  await writeDockerConfig(dir.path, proxy.host, PASSWORD);
  const results: CliResult[] = [];
  const run = async (args: string[], rules: FaultRule[], options: { stdin?: string } = {}) => {
    proxy.rules.splice(0, Infinity, ...rules);
    const result = await runCli([...args, "--debug"], { env, stdin: options.stdin });
    results.push(result);
    return result;
  };

  const pushed = await run(["push", ref, src, "--format", "json"], [
    { method: "PATCH", fault: { kind: "drop-request", afterBytes: 200_000 } },
    { method: "PATCH", fault: { kind: "status", status: 500 } },
    { method: "HEAD", fault: { kind: "status", status: 503, headers: { "Retry-After": "0" } } },
  ]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const layer = JSON.parse(pushed.stdout).layers[0].digest as string;

  const ok = await run(["pull", ref, "-o", join(dir.path, "o1")], [
    { method: "GET", path: blobPath(layer), fault: { kind: "drop-response", afterBytes: 300_000 } },
    { method: "GET", path: /\/manifests\//, fault: { kind: "status", status: 500 } },
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(describeTree(join(dir.path, "o1")), describeTree(src));

  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o2")], [
      {
        method: "GET",
        path: blobPath(layer),
        times: Infinity,
        fault: { kind: "status", status: 500 },
      },
    ]),
    1,
    /answered 500/,
  );
  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o3")], [
      {
        method: "GET",
        path: blobPath(layer),
        times: Infinity,
        fault: { kind: "drop-response", afterBytes: 1000 },
      },
    ]),
    1,
    /download dropped 5 times/,
  );
  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o4")], [
      {
        method: "GET",
        path: blobPath(layer),
        times: Infinity,
        fault: { kind: "status", status: 401, headers: { "WWW-Authenticate": 'Basic realm="x"' } },
      },
    ]),
    4,
    /authentication failed for 127\.0\.0\.1:\d+ \(credentials from docker config/,
  );
  // Flags (password on stdin) and the environment, on a failing path.
  assertFailure(
    await run(
      ["pull", ref, "-o", join(dir.path, "o5"), "--username", USER, "--password-stdin"],
      [{
        method: "GET",
        path: /\/manifests\//,
        times: Infinity,
        fault: { kind: "drop-request", afterBytes: 0 },
      }],
      { stdin: `${PASSWORD}\n` },
    ),
    1,
    /failed/,
  );
  await writeDockerConfig(dir.path, proxy.host, WRONG);
  for (const args of [["push", ref, src], ["pull", ref, "-o", join(dir.path, "o6")]]) {
    assertFailure(await run(args, []), 4, /authentication failed/);
  }

  // The credentials were really in use (so not finding them in the output means something).
  const sent = proxy.seen.map((r) => r.headers.authorization).filter(Boolean);
  assert.ok(sent.includes(`Basic ${btoa(`${USER}:${PASSWORD}`)}`));
  assert.ok(sent.includes(`Basic ${btoa(`${USER}:${WRONG}`)}`));
  assert.ok(results.every((r) => r.stderr.includes("debug: ")));
  assertNoSecrets(results, [PASSWORD, WRONG]);
});

Deno.test("token auth: the password and every bearer token never show, with --debug, on success, resets, token service errors and a wrong password", async () => {
  await using dir = await tempDir();
  await using tokens = await startTokenServer(dir.path, { [USER]: PASSWORD });
  const realm = /realm: (http:\/\/127\.0\.0\.1:\d+)\/token/.exec(tokens.authYaml)![1];
  await using tokenProxy = await startFaultProxy({ upstream: realm });
  await using registry = await startRegistry({
    authYaml: tokens.authYaml.replace(realm, tokenProxy.url),
  });
  await using proxy = await startFaultProxy({ upstream: registry.url });
  const env = isolatedEnv(dir.path);
  const src = await makeTree(join(dir.path, "src"), 300_000);
  const ref = `${proxy.host}/team/app:v1`;
  await writeDockerConfig(dir.path, proxy.host, PASSWORD);
  const results: CliResult[] = [];
  const run = async (args: string[], rules: FaultRule[], tokenRules: FaultRule[] = []) => {
    proxy.rules.splice(0, Infinity, ...rules);
    tokenProxy.rules.splice(0, Infinity, ...tokenRules);
    const result = await runCli([...args, "--debug"], { env });
    results.push(result);
    return result;
  };

  const pushed = await run(["push", ref, src, "--format", "json"], [
    { method: "PUT", path: /\/manifests\//, fault: { kind: "status", status: 503 } },
  ], [{ fault: { kind: "status", status: 500 } }]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const layer = JSON.parse(pushed.stdout).layers[0].digest as string;
  const ok = await run(["pull", ref, "-o", join(dir.path, "o1")], [
    { method: "GET", path: blobPath(layer), fault: { kind: "drop-response", afterBytes: 100_000 } },
  ], [{ fault: { kind: "drop-request", afterBytes: 0 } }]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(describeTree(join(dir.path, "o1")), describeTree(src));

  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o2")], [], [
      { times: Infinity, fault: { kind: "status", status: 500 } },
    ]),
    4,
    /^error: token service for 127\.0\.0\.1:\d+ answered 500$/,
  );
  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o3")], [], [
      { times: Infinity, fault: { kind: "drop-request", afterBytes: 0 } },
    ]),
    1,
    /^error: cannot reach the token service for 127\.0\.0\.1:\d+: /,
  );
  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o4")], [
      {
        method: "GET",
        path: blobPath(layer),
        times: Infinity,
        fault: { kind: "status", status: 500 },
      },
    ]),
    1,
    /answered 500/,
  );
  await writeDockerConfig(dir.path, proxy.host, WRONG);
  assertFailure(
    await run(["pull", ref, "-o", join(dir.path, "o5")], []),
    4,
    /authentication failed/,
  );

  assert.ok(tokens.issued.length >= 2);
  assert.ok(tokenProxy.seen.some((r) => r.headers.authorization?.startsWith("Basic ")));
  assert.ok(proxy.seen.some((r) => r.headers.authorization?.startsWith("Bearer ")));
  assertNoSecrets(results, [PASSWORD, WRONG, ...tokens.issued]);
});

/** A pull token for `team/app`, as a CDN would hold its own access to the storage. */
async function cdnToken(authYaml: string): Promise<string> {
  const realm = /realm: (\S+)/.exec(authYaml)![1];
  const response = await fetch(
    `${realm}?service=artifact-cli-test&scope=repository:team/app:pull`,
    { headers: { Authorization: `Basic ${btoa(`${USER}:${PASSWORD}`)}` } },
  );
  return (await response.json()).token;
}

Deno.test("a 307 redirect of blob downloads to another loopback server carries no Authorization (basic and bearer), also when resuming; signed URLs never show", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const src = await makeTree(join(dir.path, "src"), 300_000);
  await using tokens = await startTokenServer(dir.path, { [USER]: PASSWORD });
  const basicRegistry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  const tokenRegistry = await startRegistry({ authYaml: tokens.authYaml });
  await using _stop = {
    async [Symbol.asyncDispose]() {
      await basicRegistry.stop();
      await tokenRegistry.stop();
    },
  };
  const results: CliResult[] = [];
  for (const registry of [basicRegistry, tokenRegistry]) {
    // The "CDN": another loopback server (another port) that serves blobs with its own access.
    const cdnAuth = {
      Authorization: registry === basicRegistry
        ? `Basic ${btoa(`${USER}:${PASSWORD}`)}`
        : `Bearer ${await cdnToken(tokens.authYaml)}`,
    };
    await using cdn = await startFaultProxy({
      upstream: registry.url,
      caFile: registry.caFile,
      upstreamHeaders: cdnAuth,
    });
    await using proxy = await startFaultProxy({
      upstream: registry.url,
      caFile: registry.caFile,
      rules: [{
        method: "GET",
        path: /\/blobs\/sha256:/,
        times: Infinity,
        fault: {
          kind: "redirect",
          to: (path) => `${cdn.url}${path}?X-Amz-Signature=${SIGNATURE}&expires=1`,
        },
      }],
    });
    await writeDockerConfig(dir.path, proxy.host, PASSWORD);
    const ref = `${proxy.host}/team/app:v1`;
    const pushed = await push(ref, src, env);
    // The CDN drops the layer's first download part-way: the resumed request is redirected too.
    cdn.rules.push({
      method: "GET",
      path: new RegExp(`/blobs/${pushed.layers[0].digest}\\?`),
      fault: { kind: "drop-response", afterBytes: 100_000 },
    });
    const out = join(dir.path, `out-${registry.host.replace(":", "-")}`);
    const pull = await runCli(["pull", ref, "-o", out, "--debug"], { env });
    results.push(pull);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(describeTree(out, { modes: true }), describeTree(src, { modes: true }));

    const toCdn = cdn.seen.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    assert.ok(toCdn.length >= 3, "config, layer, and the layer resumed with Range");
    assert.ok(toCdn.some((r) => r.headers.range === "bytes=100000-"));
    for (const request of toCdn) {
      assert.equal(request.headers.authorization, undefined, `${request.method} ${request.path}`);
    }
    // The registry itself did get the credentials for the same requests.
    const redirected = proxy.seen.filter((r) => r.fault === "redirect");
    assert.ok(redirected.length >= 3);
    assert.ok(redirected.every((r) => /^(Basic|Bearer) /.test(r.headers.authorization ?? "")));

    // A redirect to a server that is not there: one error line, no signature in it.
    proxy.rules[0] = {
      method: "GET",
      path: /\/blobs\/sha256:/,
      times: Infinity,
      fault: {
        kind: "redirect",
        to: (path) => `http://127.0.0.1:${freePort()}${path}?X-Amz-Signature=${SIGNATURE}`,
      },
    };
    const dead = await runCli(["pull", ref, "-o", join(dir.path, "dead"), "--debug"], { env });
    results.push(dead);
    assertFailure(dead, 1, /X-Amz-Signature=REDACTED/);
  }
  assertNoSecrets(results, [PASSWORD, SIGNATURE, ...tokens.issued]);
});
