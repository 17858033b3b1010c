/**
 * Large blobs are downloaded as several concurrent Range parts, handed on in
 * order and verified whole; a registry that ignores Range is read as one
 * stream; a part with wrong bytes fails the pull with exit 5. By default one
 * connection is probed first and parts are used only when the consumer waits
 * for the network.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startFaultProxy } from "./support/fault_proxy.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";
import { createHash } from "node:crypto";
import { rangedDownload } from "../src/registry/ranged_download.ts";

const SIZE = 3 * 1024 * 1024 + 12345; // 13 parts of 256 KiB, the last short
const PART = 256 * 1024;

async function setup(dir: string) {
  const registry = await startRegistry();
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  await Deno.writeFile(join(dir, "disk.raw"), data);
  // One file, pushed as an artifact layer that pull writes back as it is.
  const push = await runCli(
    [
      "push",
      `${registry.host}/images/disk:v1`,
      "disk.raw",
      "--artifact-type",
      "application/x.disk",
    ],
    { cwd: dir, env: isolatedEnv(dir) },
  );
  assert.equal(push.code, 0, push.stderr);
  const proxy = await startFaultProxy({ upstream: registry.url });
  const env = isolatedEnv(dir, {
    ARTIFACT_CLI_RANGED_MIN_BYTES: String(1024 * 1024),
    ARTIFACT_CLI_RANGED_PART_BYTES: String(PART),
    ARTIFACT_CLI_RANGED_CONNECTIONS: "4",
    // Parts from the first byte: no probe of one connection (tested below).
    ARTIFACT_CLI_RANGED_PROBE_MS: "0",
  });
  return { registry, proxy, data, env, ref: `${proxy.host}/images/disk:v1` };
}

const blobGets = (seen: { method: string; path: string; headers: Record<string, string> }[]) =>
  seen.filter((r) => r.method === "GET" && /\/blobs\/sha256:/.test(r.path));

Deno.test("a large blob is fetched as concurrent Range parts, in order and verified", async () => {
  await using dir = await tempDir();
  const { registry, proxy, data, env, ref } = await setup(dir.path);
  await using _r = registry;
  await using _p = proxy;
  // Slow parts make overlapping requests visible at the proxy; nothing is timed.
  proxy.rules.splice(0, proxy.rules.length, {
    method: "GET",
    path: /\/blobs\/sha256:/,
    times: Infinity,
    fault: { kind: "slow-body", chunkBytes: 64 * 1024, delayMs: 5 },
  });
  const pull = await runCli(["pull", ref, "-o", "out", "--plain-http"], { cwd: dir.path, env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(await Deno.readFile(join(dir.path, "out", "disk.raw")), data);
  const parts = blobGets(proxy.seen).filter((r) => r.headers.range);
  assert.equal(parts.length, Math.ceil(SIZE / PART));
  const starts = parts.map((r) => Number(/bytes=(\d+)-/.exec(r.headers.range)![1])).sort((a, b) =>
    a - b
  );
  assert.deepEqual(starts, Array.from({ length: starts.length }, (_, i) => i * PART));
  assert.ok(proxy.inFlight.peak >= 2, `peak ${proxy.inFlight.peak}: parts did not overlap`);
  // The proxy counts a request as done only after its last write returns, so
  // on a loaded machine a part or two the client has finished reading can
  // still be counted when the next one arrives; 13 parts at once would fail.
  assert.ok(proxy.inFlight.peak <= 4 + 2, `peak ${proxy.inFlight.peak}: over the connection limit`);
});

Deno.test("a registry that ignores Range is read as one stream; connections=1 asks no Range", async () => {
  await using dir = await tempDir();
  const { registry, proxy, data, env, ref } = await setup(dir.path);
  await using _r = registry;
  await using _p = proxy;
  proxy.rules.splice(0, proxy.rules.length, {
    method: "GET",
    path: /\/blobs\/sha256:/,
    times: Infinity,
    fault: { kind: "drop-request-headers", names: ["range"] },
  });
  const pull = await runCli(["pull", ref, "-o", "out", "--plain-http"], { cwd: dir.path, env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(await Deno.readFile(join(dir.path, "out", "disk.raw")), data);
  const big = blobGets(proxy.seen).filter((r) => r.headers.range);
  assert.equal(big.length, 1, "only the first part was asked for before falling back");

  proxy.rules.length = 0;
  proxy.seen.length = 0;
  const single = await runCli(["pull", ref, "-o", "out2", "--plain-http"], {
    cwd: dir.path,
    env: { ...env, ARTIFACT_CLI_RANGED_CONNECTIONS: "1" },
  });
  assert.equal(single.code, 0, single.stderr);
  assert.equal(blobGets(proxy.seen).filter((r) => r.headers.range).length, 0);
});

Deno.test("a Range part with other bytes fails the pull (exit 5); a dropped part is asked again", async () => {
  await using dir = await tempDir();
  const { registry, proxy, data, env, ref } = await setup(dir.path);
  await using _r = registry;
  await using _p = proxy;
  const ranged = /\/blobs\/sha256:/;
  proxy.rules.splice(0, proxy.rules.length, {
    method: "GET",
    path: ranged,
    skip: 3,
    fault: { kind: "corrupt", offset: 10 },
  });
  const bad = await runCli(["pull", ref, "-o", "out", "--plain-http"], { cwd: dir.path, env });
  assert.equal(bad.code, 5, bad.stderr);
  assert.ok(!(await Deno.lstat(join(dir.path, "out")).catch(() => null)));

  proxy.rules.splice(0, proxy.rules.length, {
    method: "GET",
    path: ranged,
    skip: 4,
    fault: { kind: "drop-response", afterBytes: 1000 },
  });
  proxy.seen.length = 0;
  const resumed = await runCli(["pull", ref, "-o", "out", "--plain-http"], { cwd: dir.path, env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await Deno.readFile(join(dir.path, "out", "disk.raw")), data);
  // The dropped part is asked again from the byte it had reached, not from its start.
  const starts = blobGets(proxy.seen).map((r) => Number(/bytes=(\d+)-/.exec(r.headers.range)![1]));
  assert.equal(starts.length, Math.ceil(SIZE / PART) + 1, String(starts));
  assert.ok(starts.some((s) => s % PART !== 0), `no part resumed mid-way: ${starts}`);
});

/** The probe's settings for the tests below: parts of 256 KiB, a 100 ms probe. */
const PROBED = {
  ARTIFACT_CLI_RANGED_PROBE_MS: "100",
};

Deno.test("a slow connection (the consumer waits) switches to Range parts after the probe", async () => {
  await using dir = await tempDir();
  const { registry, proxy, data, env, ref } = await setup(dir.path);
  await using _r = registry;
  await using _p = proxy;
  // ~12 MiB/s per connection: the 3 MiB blob takes ~250 ms on one, so the probe sees a waiting consumer.
  proxy.rules.splice(0, proxy.rules.length, {
    method: "GET",
    path: /\/blobs\/sha256:/,
    times: Infinity,
    fault: { kind: "slow-body", chunkBytes: 64 * 1024, delayMs: 5 },
  });
  const pull = await runCli(["pull", ref, "-o", "out", "--plain-http", "--debug"], {
    cwd: dir.path,
    env: { ...env, ...PROBED },
  });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(await Deno.readFile(join(dir.path, "out", "disk.raw")), data);
  const decision = /4 Range parts at once from byte (\d+)/.exec(pull.stderr);
  assert.ok(decision, pull.stderr.split("\n").filter((l) => /Range|connection/.test(l)).join("\n"));
  const cut = Number(decision[1]);
  assert.equal(cut % PART, 0, "parts start on a part boundary");
  const ranges = blobGets(proxy.seen).map((r) => r.headers.range);
  // The lead asks for the whole blob; the parts cover the rest from the cut, each once.
  assert.equal(ranges[0], `bytes=0-${SIZE - 1}`);
  const starts = ranges.slice(1).map((r) => Number(/bytes=(\d+)-/.exec(r)![1]));
  assert.deepEqual(
    starts.sort((a, b) => a - b),
    Array.from({ length: Math.ceil((SIZE - cut) / PART) }, (_, i) => cut + i * PART),
  );
  assert.ok(proxy.inFlight.peak >= 2, `peak ${proxy.inFlight.peak}: parts did not overlap`);
});

Deno.test("a fast connection (the consumer is the limit) stays one stream", async () => {
  await using dir = await tempDir();
  const { registry, proxy, data } = await setup(dir.path);
  await using _r = registry;
  await using _p = proxy;
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const url = `${proxy.url}/v2/images/disk/blobs/${digest}`;
  const lines: string[] = [];
  const started = await rangedDownload(
    SIZE,
    (start, end) => fetch(url, { headers: { Range: `bytes=${start}-${end}` } }),
    "disk blob",
    { minBytes: 1, partBytes: PART, connections: 4, probeMs: 100 },
    (line) => lines.push(line),
  );
  assert.ok("stream" in started);
  // A consumer that takes 30 ms per piece: the network is never what it waits for.
  const received = new Uint8Array(SIZE);
  let filled = 0;
  for await (const chunk of started.stream) {
    received.set(chunk, filled);
    filled += chunk.byteLength;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  assert.equal(filled, SIZE);
  assert.deepEqual(received, data);
  assert.match(lines.join("\n"), /one connection is fast enough/);
  assert.deepEqual(blobGets(proxy.seen).map((r) => r.headers.range), [`bytes=0-${SIZE - 1}`]);
});

Deno.test("a dropped lead stream is asked again from the byte it reached", async () => {
  await using dir = await tempDir();
  const { registry, proxy, data, env, ref } = await setup(dir.path);
  await using _r = registry;
  await using _p = proxy;
  proxy.rules.splice(0, proxy.rules.length, {
    method: "GET",
    path: /\/blobs\/sha256:/,
    fault: { kind: "drop-response", afterBytes: 100_000 },
  });
  // A probe longer than the download: the lead stream carries the whole blob.
  const pull = await runCli(["pull", ref, "-o", "out", "--plain-http"], {
    cwd: dir.path,
    env: { ...env, ARTIFACT_CLI_RANGED_PROBE_MS: "600000" },
  });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(await Deno.readFile(join(dir.path, "out", "disk.raw")), data);
  const ranges = blobGets(proxy.seen).map((r) => r.headers.range);
  assert.equal(ranges.length, 2, String(ranges));
  assert.equal(ranges[0], `bytes=0-${SIZE - 1}`);
  const resumedAt = Number(/bytes=(\d+)-/.exec(ranges[1])![1]);
  assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at ${resumedAt}`);
});
