/**
 * `--select KEY=VALUE` chooses among index entries that share a platform (a
 * Garden Linux release index), on pull, describe, manifest, copy and sync,
 * against the real registry.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { gardenLinuxLayout } from "./support/garden_linux.ts";
import { startRegistry } from "./support/registry.ts";
import { tempDir } from "./support/tree.ts";

/** The Garden Linux index copied into the real registry as `HOST/gardenlinux:1443.3`. */
async function gardenLinuxInRegistry(dir: string, entryAnnotations = true) {
  const entries = await gardenLinuxLayout(join(dir, "store"), { entryAnnotations });
  const registry = await startRegistry();
  const env = isolatedEnv(dir, { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64" });
  const copy = await runCli(["copy", "oci:store:1443.3", `${registry.host}/gardenlinux:1443.3`], {
    cwd: dir,
    env,
  });
  assert.equal(copy.code, 0, copy.stderr);
  return { registry, entries, env, ref: `${registry.host}/gardenlinux:1443.3` };
}

for (const entryAnnotations of [true, false]) {
  const where = entryAnnotations ? "index-entry annotations" : "manifest annotations only";
  Deno.test(`pull --select picks a flavour by ${where}, on any host platform, with no warning`, async () => {
    await using dir = await tempDir();
    const { registry, entries, env, ref } = await gardenLinuxInRegistry(dir.path, entryAnnotations);
    await using _ = registry;
    const cname = "azure-gardener_prod-arm64-1443.3";
    const pull = await runCli(
      ["pull", ref, "-o", "out", "--select", `cname=${cname}`, "--format", "json"],
      { cwd: dir.path, env },
    );
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stderr, "");
    assert.equal(JSON.parse(pull.stdout).manifest.digest, entries[cname].digest);
    assert.deepEqual([...Deno.readDirSync(join(dir.path, "out"))].map((e) => e.name).sort(), [
      `${cname}.raw`,
      "cmdline",
    ]);
    // Several pairs must all match; -s is the short form; with --platform too.
    const both = await runCli(
      [
        "pull",
        ref,
        "-o",
        "out2",
        "-s",
        "feature_set=container,gardener,_prod",
        "-s",
        "architecture=amd64",
        "-p",
        "gardenlinux/amd64",
        "--format",
        "json",
      ],
      { cwd: dir.path, env },
    );
    assert.equal(both.code, 0, both.stderr);
    assert.equal(
      JSON.parse(both.stdout).manifest.digest,
      entries["container-gardener_prod-amd64-1443.3"].digest,
    );
  });
}

Deno.test("--select with no match exits 3 listing the values present; a bad selector is a usage error", async () => {
  await using dir = await tempDir();
  const { registry, env, ref } = await gardenLinuxInRegistry(dir.path);
  await using _ = registry;
  const none = await runCli(["pull", ref, "-o", "out", "--select", "cname=gcp"], {
    cwd: dir.path,
    env,
  });
  assert.equal(none.code, 3, none.stderr);
  assert.match(
    none.stderr.trim(),
    /^error: no entry of .* matches --select cname=gcp; values present: cname: aws-gardener_prod-amd64-1443\.3, azure-.*container-gardener_prod-arm64-1443\.3$/,
  );
  // The platform narrows first: an arm64 cname under --platform amd64 is not there.
  const crossed = await runCli(
    [
      "describe",
      ref,
      "-s",
      "cname=aws-gardener_prod-arm64-1443.3",
      "-p",
      "gardenlinux/amd64",
      "--format",
      "json",
    ],
    { cwd: dir.path, env },
  );
  assert.equal(crossed.code, 0, crossed.stderr);
  assert.match(
    JSON.parse(crossed.stdout).selectionError,
    /matches --select .* for platform gardenlinux\/amd64/,
  );
  assert.ok(!(await Deno.lstat(join(dir.path, "out")).catch(() => null)));
  for (const bad of ["cname", "=x"]) {
    const usage = await runCli(["pull", ref, "-o", "out", "--select", bad], { cwd: dir.path, env });
    assert.equal(usage.code, 2, usage.stderr);
    assert.match(usage.stderr, /--select .*expected KEY=VALUE/);
  }
});

Deno.test("describe, manifest and copy take --select; sync takes select:", async () => {
  await using dir = await tempDir();
  const { registry, entries, env, ref } = await gardenLinuxInRegistry(dir.path);
  await using _ = registry;
  const cname = "container-gardener_prod-arm64-1443.3";
  const wanted = entries[cname].digest;

  const described = await runCli([
    "describe",
    ref,
    "--select",
    `cname=${cname}`,
    "--format",
    "json",
  ], {
    cwd: dir.path,
    env,
  });
  assert.equal(described.code, 0, described.stderr);
  const d = JSON.parse(described.stdout);
  assert.equal(d.selected.digest, wanted);
  assert.match(d.selected.reason, /matching --select cname=container-gardener_prod-arm64-1443\.3/);
  const text = await runCli(["describe", ref], { cwd: dir.path, env });
  assert.match(text.stdout, /cname=azure-gardener_prod-arm64-1443\.3/);

  const manifest = await runCli(["manifest", ref, "--select", `cname=${cname}`], {
    cwd: dir.path,
    env,
  });
  assert.equal(manifest.code, 0, manifest.stderr);
  assert.equal(JSON.parse(manifest.stdout).annotations.cname, cname);

  const copied = await runCli(
    [
      "copy",
      ref,
      `${registry.host}/flavours:${cname}`,
      "--select",
      `cname=${cname}`,
      "--format",
      "json",
    ],
    { cwd: dir.path, env },
  );
  assert.equal(copied.code, 0, copied.stderr);
  assert.equal(JSON.parse(copied.stdout).digest, wanted);

  await Deno.writeTextFile(
    join(dir.path, "sync.yml"),
    `destination: synced\nartifacts:\n  - image: ${ref}\n    path: arm\n    select: {cname: ${cname}}\n`,
  );
  const synced = await runCli(["sync", "-c", "sync.yml", "--plain-http"], { cwd: dir.path, env });
  assert.equal(synced.code, 0, synced.stderr);
  assert.deepEqual(
    [...Deno.readDirSync(join(dir.path, "synced", "arm"))].map((e) => e.name).sort(),
    ["cmdline", `${cname}.raw`],
  );
});

Deno.test("the README's --select examples run against a Garden Linux index", async () => {
  await using dir = await tempDir();
  const { registry, env } = await gardenLinuxInRegistry(dir.path);
  await using _ = registry;
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const lines = [...readme.matchAll(/^```console\n([\s\S]*?)^```$/gm)]
    .flatMap((m) => m[1].split("\n"))
    .filter((l) => l.includes("gardenlinux"));
  assert.ok(lines.some((l) => l.includes("--select")), "the README shows --select");
  for (const line of lines) {
    const args = line.replace(/^\$ artifact-cli /, "").split(/\s+/)
      .map((a) => a.replace("ghcr.io/gardenlinux/gardenlinux", `${registry.host}/gardenlinux`));
    const result = await runCli([...args, "--plain-http"], { cwd: dir.path, env });
    assert.equal(result.code, 0, `${line}: ${result.stderr}`);
  }
  assert.ok(await Deno.stat(join(dir.path, "aws", "aws-gardener_prod-amd64-1443.3.raw")));
});
