/**
 * Chunked, resumable uploads through the fault proxy in front of the real
 * registry: a PATCH dropped mid-chunk resumes from the registry's `Range`
 * (bytes re-sent counted by the proxy), a registry refusing PATCH gets one
 * PUT, and a malformed `Range` starts a new session. Every blob is pulled
 * back and compared.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseUploadRange, uploadChunkBytes } from "../src/registry/chunked_upload.ts";
import { runCli } from "./support/cli.ts";
import { type FaultRule, type SeenRequest, startFaultProxy } from "./support/fault_proxy.ts";
import { startRegistry } from "./support/registry.ts";
import { isolatedEnv, makeTree, push } from "./support/registry_scenario.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const CHUNK = 512 * 1024;
const UPLOADS = /\/blobs\/uploads\//;

const requests = (seen: SeenRequest[], method: string) =>
  seen.filter((r) => r.method === method && UPLOADS.test(r.path));

/** Push a ~2.5 MB tree through a proxy with `rules`, pull it back directly, compare. */
async function pushThrough(dir: string, rules: FaultRule[]) {
  await using registry = await startRegistry();
  await using proxy = await startFaultProxy({ upstream: registry.url, rules });
  const env = isolatedEnv(dir, { ARTIFACT_CLI_UPLOAD_CHUNK_BYTES: String(CHUNK) });
  const src = await makeTree(join(dir, "src"), 2_500_000);
  const pushed = await push(`${proxy.host}/team/app:v1`, src, env, ["--debug"]);
  const out = join(dir, "out");
  const pull = await runCli(["pull", `${registry.host}/team/app:v1`, "-o", out], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(describeTree(out, { modes: true }), describeTree(src, { modes: true }));
  assert.deepEqual(
    await Deno.readFile(join(out, "random.bin")),
    await Deno.readFile(join(src, "random.bin")),
  );
  return { seen: [...proxy.seen], layer: pushed.layers[0] };
}

Deno.test("a PATCH dropped mid-chunk resumes from the registry's Range: one session, at most one chunk re-sent, the right blob", async () => {
  await using dir = await tempDir();
  const { seen, layer } = await pushThrough(dir.path, [
    {
      method: "PATCH",
      path: UPLOADS,
      skip: 2,
      fault: { kind: "drop-request", afterBytes: 300_000 },
    },
  ]);
  assert.ok(layer.size > 4 * CHUNK, `layer of ${layer.size} bytes spans several chunks`);
  const patches = requests(seen, "PATCH");
  assert.ok(patches.some((r) => r.fault === "drop-request"), "the fault was applied");
  assert.ok(patches.every((r) => r.headers["content-range"]), "every PATCH names its range");
  const sent = patches.reduce((sum, r) => sum + r.bodyBytes, 0);
  const resent = sent - layer.size;
  assert.ok(resent > 0 && resent <= CHUNK, `re-sent ${resent} bytes, one chunk is ${CHUNK}`);
  // Resumed in the same session: the status GET happened and no second POST for the layer.
  assert.equal(requests(seen, "GET").length, 1);
  assert.equal(
    seen.filter((r) => r.method === "POST" && /\/blobs\/uploads\/$/.test(r.path)).length,
    2, // the config (one PUT) and the layer
  );
});

Deno.test("a registry refusing PATCH still gets a good push with one PUT", async () => {
  await using dir = await tempDir();
  const { seen, layer } = await pushThrough(dir.path, [
    { method: "PATCH", path: UPLOADS, times: Infinity, fault: { kind: "status", status: 405 } },
  ]);
  const puts = requests(seen, "PUT").filter((r) => r.path.includes(layer.digest.slice(7)));
  assert.equal(puts.length, 1);
  assert.equal(puts[0].bodyBytes, layer.size);
  assert.equal(puts[0].status, 201);
});

Deno.test("a malformed Range after a drop starts a new session instead of trusting it", async () => {
  for (const range of ["0-abc", "0-999999999", "bytes 5-10"]) {
    await using dir = await tempDir();
    const { seen, layer } = await pushThrough(dir.path, [
      {
        method: "PATCH",
        path: UPLOADS,
        skip: 1,
        fault: { kind: "drop-request", afterBytes: 1000 },
      },
      { method: "GET", path: UPLOADS, fault: { kind: "headers", set: { range: range } } },
    ]);
    assert.equal(requests(seen, "GET").length, 1, range);
    assert.equal(
      seen.filter((r) => r.method === "POST" && /\/blobs\/uploads\/$/.test(r.path)).length,
      3, // config, layer, and the layer's fresh session
      range,
    );
    const put = requests(seen, "PUT").find((r) => r.path.includes(layer.digest.slice(7)));
    assert.equal(put?.status, 201, range);
  }
});

Deno.test("Range parsing is strict and the chunk size is bounded", () => {
  assert.equal(parseUploadRange("0-1048575"), 1048576);
  assert.equal(parseUploadRange("0-0"), 0);
  for (const bad of [null, "", "0-", "1-5", "0-5-6", "0-abc", " 0--1", "0-1e3"]) {
    assert.equal(parseUploadRange(bad), undefined, String(bad));
  }
  assert.equal(uploadChunkBytes(undefined), 8 * 1024 * 1024);
  assert.equal(uploadChunkBytes("1"), 64 * 1024);
  assert.equal(uploadChunkBytes("99999999999"), 256 * 1024 * 1024);
  assert.throws(() => uploadChunkBytes("8M"), /ARTIFACT_CLI_UPLOAD_CHUNK_BYTES/);
});
