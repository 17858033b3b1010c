import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { fixture } from "./support/fixtures.ts";
import { buildahFixtureLayout } from "./support/layouts.ts";
import { tempDir } from "./support/tree.ts";

Deno.test("manifest --format json prints the manifest itself as pretty JSON with a final newline", async () => {
  await using dir = await tempDir();
  await buildahFixtureLayout(join(dir.path, "buildah"));
  const ref = `oci:${join(dir.path, "buildah")}:v1`;
  const index = await runCli(["manifest", ref, "--format", "json"]);
  assert.equal(index.code, 0, index.stderr);
  const stored = JSON.parse(new TextDecoder().decode(fixture("buildah-index/index.json")));
  assert.equal(index.stdout, `${JSON.stringify(stored, null, 2)}\n`);
  const arm = await runCli(["manifest", ref, "-p", "linux/arm64", "--format", "json"]);
  assert.deepEqual(
    JSON.parse(arm.stdout),
    JSON.parse(new TextDecoder().decode(fixture("buildah-index/manifest-arm64.json"))),
  );
  assert.ok(arm.stdout.endsWith("}\n") && arm.stdout.includes('\n  "'));
});
