/**
 * Integrity through a registry: the fault proxy in front of the real
 * registry changes bytes, lengths and digests; every case must exit 5 with
 * one error line and leave the output directory (and its parent) as it was.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { type Fault, type FaultRule, startFaultProxy } from "./support/fault_proxy.ts";
import { startRegistry } from "./support/registry.ts";
import {
  assertFailure,
  blobPath,
  existingOutput,
  isolatedEnv,
  makeTree,
  plannedDigests,
  push,
  type PushReport,
} from "./support/registry_scenario.ts";
import { tempDir } from "./support/tree.ts";

const LAYER_BYTES = 60_000;

/** A manifest body with one change, and without the registry's digest header (now stale). */
function editManifest(edit: (manifest: Record<string, unknown>) => void): Fault {
  return {
    kind: "replace-body",
    body: (original) => {
      const manifest = JSON.parse(new TextDecoder().decode(original));
      edit(manifest);
      return new TextEncoder().encode(JSON.stringify(manifest));
    },
    headers: { "docker-content-digest": null },
  };
}

function layerSize(delta: number): Fault {
  return editManifest((m) => {
    const layers = m.layers as { size: number }[];
    layers[0].size += delta;
  });
}

interface PullCase {
  name: string;
  /** Pull by digest instead of by tag. */
  byDigest?: boolean;
  rule: (pushed: PushReport) => FaultRule;
  message: RegExp;
}

const layerRule =
  (fault: Fault | ((layerSize: number) => Fault)) => (pushed: PushReport): FaultRule => ({
    method: "GET",
    path: blobPath(pushed.layers[0].digest),
    times: Infinity,
    fault: typeof fault === "function" ? fault(pushed.layers[0].size) : fault,
  });
const manifestRule = (fault: Fault) => (): FaultRule => ({
  method: "GET",
  path: /\/manifests\//,
  times: Infinity,
  fault,
});

const PULL_CASES: PullCase[] = [
  {
    name: "a layer whose bytes do not match its digest",
    rule: layerRule({ kind: "corrupt" }),
    message: /^error: blob sha256:\w+ in .*: digest mismatch: expected sha256:\w+, got sha256:/,
  },
  {
    name: "a config blob whose bytes do not match its digest",
    rule: (pushed) => ({
      method: "GET",
      path: blobPath(pushed.config.digest),
      times: Infinity,
      fault: { kind: "corrupt" },
    }),
    message: /^error: blob sha256:\w+ in .*: digest mismatch/,
  },
  {
    name: "a truncated layer whose Content-Length matches the short body",
    rule: layerRule((size) => ({ kind: "truncate", bytes: size - 1000 })),
    message: /^error: blob sha256:\w+ in .*: the registry sends \d+ bytes, expected \d+/,
  },
  {
    name: "a truncated layer without Content-Length",
    rule: layerRule((size) => ({ kind: "truncate", bytes: size - 1000, withoutLength: true })),
    message: /^error: blob sha256:\w+ in .*: expected (\d+) bytes, got \d+ \(truncated\)/,
  },
  {
    name: "a Content-Length that overstates the layer",
    rule: layerRule({ kind: "content-length", value: 10_000_000 }),
    message: /^error: blob sha256:\w+ in .*: the registry sends 10000000 bytes/,
  },
  {
    name: "a Content-Length that understates the layer",
    rule: layerRule({ kind: "content-length", value: 1000 }),
    message: /^error: blob sha256:\w+ in .*: the registry sends 1000 bytes/,
  },
  {
    name: "a manifest that does not match the digest it is pulled by",
    byDigest: true,
    rule: manifestRule(editManifest((m) => {
      m.annotations = { ...(m.annotations as object), injected: "by the proxy" };
    })),
    message: /^error: manifest sha256:\w+ in .*: content digest is sha256:\w+/,
  },
  {
    name: "a manifest whose Docker-Content-Digest names other content",
    rule: manifestRule({
      kind: "headers",
      set: { "docker-content-digest": `sha256:${"0".repeat(64)}` },
    }),
    message: /^error: manifest v1 in .*: the registry says sha256:0{64} but the content is/,
  },
  {
    name: "a manifest whose layer size understates the blob",
    rule: manifestRule(layerSize(-1000)),
    message: /^error: blob sha256:\w+ in .*: the registry sends (\d+) bytes, expected \d+$/,
  },
  {
    name: "a manifest whose layer size overstates the blob",
    rule: manifestRule(layerSize(+1000)),
    message: /^error: blob sha256:\w+ in .*: the registry sends (\d+) bytes, expected \d+$/,
  },
];

for (const c of PULL_CASES) {
  Deno.test(`integrity through a registry: ${c.name} fails with exit 5, output untouched`, async () => {
    await using dir = await tempDir();
    await using registry = await startRegistry();
    const env = isolatedEnv(dir.path);
    const src = await makeTree(join(dir.path, "src"), LAYER_BYTES - 4000);
    const pushed = await push(`${registry.host}/team/app:v1`, src, env);
    assert.ok(Math.abs(pushed.layers[0].size - LAYER_BYTES) < 4000, `${pushed.layers[0].size}`);
    await using proxy = await startFaultProxy({ upstream: registry.url, rules: [c.rule(pushed)] });
    const output = await existingOutput(join(dir.path, "work"));
    const ref = c.byDigest
      ? `${proxy.host}/team/app@${pushed.digest}`
      : `${proxy.host}/team/app:v1`;
    const pull = await runCli(["pull", ref, "-o", output.out, "--force"], { env });
    assertFailure(pull, 5, c.message);
    assert.ok(proxy.seen.some((r) => r.fault), "the fault was injected");
    output.assertUntouched();
  });
}

Deno.test("integrity through a registry: push fails with exit 5 when the registry reports another digest for a stored blob or manifest", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const src = await makeTree(join(dir.path, "src"), 2000);
  const planned = await plannedDigests(src, join(dir.path, "scratch"), env);
  const other = `sha256:${"1".repeat(64)}`;
  for (
    const rule of [
      {
        method: "PUT",
        path: /\/blobs\/uploads\//,
        fault: { kind: "headers", set: { "docker-content-digest": other } },
      },
      {
        method: "PUT",
        path: /\/manifests\/v1$/,
        fault: { kind: "headers", set: { "docker-content-digest": other } },
      },
    ] satisfies FaultRule[]
  ) {
    await using proxy = await startFaultProxy({ upstream: registry.url, rules: [rule] });
    const result = await runCli(["push", `${proxy.host}/team/app:v1`, src], { env });
    assertFailure(
      result,
      5,
      new RegExp(`^error: .*the registry stored ${other} instead of sha256:\\w+`),
    );
    assert.ok(proxy.seen.some((r) => r.fault === "headers"));
  }
  assert.ok(planned.digest);
});
