import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { gardenLinuxLayout } from "./support/garden_linux.ts";
import { tempDir } from "./support/tree.ts";

Deno.test("pull: several entries for one platform (Garden Linux index) take the first with a warning naming the others; a digest chooses", async () => {
  await using dir = await tempDir();
  const entries = await gardenLinuxLayout(join(dir.path, "store"));
  const aws = entries["aws-gardener_prod-amd64-1443.3"];
  const azure = entries["azure-gardener_prod-amd64-1443.3"];

  // No linux entry: not found, each platform listed once with its count.
  const host = await runCli(["pull", "oci:store:1443.3", "-o", "out"], {
    cwd: dir.path,
    env: { ARTIFACT_CLI_DEFAULT_PLATFORM: "linux/amd64" },
  });
  assert.equal(host.code, 3);
  assert.equal(
    host.stderr,
    "error: no manifest for platform linux/amd64 in oci:store; available: " +
      "gardenlinux/amd64 (3 entries), gardenlinux/arm64 (3 entries)\n",
  );

  const pulled = await runCli(
    [
      "pull",
      "oci:store:1443.3",
      "-o",
      "out",
      "--platform",
      "gardenlinux/amd64",
      "--format",
      "json",
    ],
    { cwd: dir.path },
  );
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(JSON.parse(pulled.stdout).manifest.digest, aws.digest);
  assert.equal(
    await Deno.readTextFile(join(dir.path, "out", "aws-gardener_prod-amd64-1443.3.raw")),
    "rootfs of aws-gardener_prod-amd64-1443.3\n",
  );
  const warning = pulled.stderr.trim().split("\n");
  assert.equal(warning.length, 1, pulled.stderr);
  assert.match(
    warning[0],
    /^warning: 3 entries of oci:store match gardenlinux\/amd64; pulling the first, sha256:\w{12} \(cname=aws-gardener_prod-amd64-1443\.3, feature_set=aws,gardener,_prod\); also matching: sha256:\w{12} \(cname=azure-.*\), sha256:\w{12} \(cname=container-.*\)\. Pull one by its digest/,
  );

  const chosen = await runCli(["pull", `oci:store@${azure.digest}`, "-o", "azure"], {
    cwd: dir.path,
  });
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.equal(chosen.stderr, "");
  assert.ok(
    await Deno.stat(join(dir.path, "azure", "azure-gardener_prod-amd64-1443.3.raw")),
  );
});

Deno.test("describe: several entries for one platform are told apart by their annotations, the others marked", async () => {
  await using dir = await tempDir();
  const entries = await gardenLinuxLayout(join(dir.path, "store"));
  const args = ["describe", "oci:store:1443.3", "--platform", "gardenlinux/amd64"];
  const asJson = await runCli([...args, "--format", "json"], { cwd: dir.path });
  assert.equal(asJson.code, 0, asJson.stderr);
  const d = JSON.parse(asJson.stdout);
  assert.equal(d.platforms.length, 6);
  assert.ok(
    d.evidence.includes("entries for gardenlinux/amd64 (3 entries), gardenlinux/arm64 (3 entries)"),
    d.evidence.join("\n"),
  );
  assert.equal(d.platforms[0].annotations.cname, "aws-gardener_prod-amd64-1443.3");
  assert.equal(d.selected.digest, entries["aws-gardener_prod-amd64-1443.3"].digest);
  assert.deepEqual(d.selected.alsoMatching, [
    entries["azure-gardener_prod-amd64-1443.3"].digest,
    entries["container-gardener_prod-amd64-1443.3"].digest,
  ]);

  const text = await runCli(args, { cwd: dir.path });
  assert.equal(text.code, 0, text.stderr);
  const line = (cname: string) => text.stdout.split("\n").find((l) => l.includes(`cname=${cname}`));
  assert.match(line("aws-gardener_prod-amd64-1443.3")!, /; selected\)$/);
  assert.match(line("azure-gardener_prod-amd64-1443.3")!, /also matches, not selected\)$/);
  assert.doesNotMatch(line("aws-gardener_prod-arm64-1443.3")!, /selected/);
  assert.match(text.stdout, /2 other entries match too; pull takes the first and warns/);
});
