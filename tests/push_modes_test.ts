import assert from "node:assert/strict";
import { join } from "node:path";
import { planPush, splitMediaType } from "../src/commands/push_modes.ts";
import { titleOf } from "../src/push/push_artifact.ts";
import { tempDir } from "./support/tree.ts";

Deno.test("push mode: a :mediaType suffix, --artifact-type or --config selects a per-file artifact", () => {
  assert.equal(planPush(["dir"], {}, {}).kind, "tree");
  assert.equal(planPush(["a.yaml:text/yaml"], {}, {}).kind, "artifact");
  assert.equal(planPush(["a.yaml"], { artifactType: "application/x.a" }, {}).kind, "artifact");
  assert.equal(planPush([], { config: "c.json" }, {}).kind, "artifact");
  assert.equal(planPush(["dir"], { platform: ["linux/amd64"] }, {}).kind, "platforms");
});

Deno.test("push mode: an argument that exists as a path keeps its colons; otherwise the suffix must be a media type", async () => {
  await using dir = await tempDir();
  const odd = join(dir.path, "notes:v1.txt");
  await Deno.writeTextFile(odd, "x");
  assert.deepEqual(splitMediaType(odd), { path: odd });
  assert.deepEqual(splitMediaType(`${odd}:text/plain`), { path: odd, mediaType: "text/plain" });
  assert.deepEqual(splitMediaType("a.yaml:text/yaml"), { path: "a.yaml", mediaType: "text/yaml" });
  assert.deepEqual(splitMediaType("missing:notatype"), { path: "missing:notatype" });
});

Deno.test("artifact titles: relative paths as given (cleaned), others by base name", () => {
  assert.equal(titleOf("a.txt"), "a.txt");
  assert.equal(titleOf("./docs//b.md"), "docs/b.md");
  assert.equal(titleOf("site/"), "site");
  assert.equal(titleOf("../up/c.txt"), "c.txt");
  assert.equal(titleOf("/abs/d.txt"), "d.txt");
});
