import assert from "node:assert/strict";
import { join } from "node:path";
import { BlobLocations } from "../src/registry/blob_locations.ts";
import { tempDir } from "./support/tree.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const C = `sha256:${"c".repeat(64)}`;

Deno.test("blob locations seen before the cache is first read do not hide the cached ones", async () => {
  await using dir = await tempDir();
  const earlier = new BlobLocations(dir.path);
  earlier.remember("reg:5000", A, "team/one");
  await earlier.save();

  // A push that first finds one blob already present (HEAD 200 -> remember),
  // then looks for a mount source for another.
  const later = new BlobLocations(dir.path);
  later.remember("reg:5000", B, "team/two");
  assert.deepEqual(await later.repositoriesOf("reg:5000", A), ["team/one"]);
  assert.deepEqual(await later.repositoriesOf("reg:5000", B), ["team/two"]);
  later.remember("reg:5000", A, "team/two");
  assert.deepEqual(await later.repositoriesOf("reg:5000", A), ["team/two", "team/one"]);
});

Deno.test("saving merges with what another process wrote meanwhile", async () => {
  await using dir = await tempDir();
  const first = new BlobLocations(dir.path);
  const second = new BlobLocations(dir.path);
  assert.deepEqual(await first.repositoriesOf("reg", A), []);
  assert.deepEqual(await second.repositoriesOf("reg", A), []);
  first.remember("reg", A, "x/one");
  second.remember("reg", A, "x/two");
  second.remember("other", C, "y/three");
  await first.save();
  await second.save();

  const fresh = new BlobLocations(dir.path);
  assert.deepEqual(await fresh.repositoriesOf("reg", A), ["x/two", "x/one"]);
  assert.deepEqual(await fresh.repositoriesOf("other", C), ["y/three"]);
  assert.deepEqual(await fresh.repositoriesOf("other", A), []);
  const mode = (await Deno.stat(join(dir.path, "blob-locations.json"))).mode! & 0o777;
  assert.equal(mode, 0o600);
});

Deno.test("a corrupt blob-location cache is ignored and replaced", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "blob-locations.json");
  for (const junk of ["{not json", "[1,2]", '{"reg":{"sha256:x":"notalist"}}', '{"reg":7}']) {
    await Deno.writeTextFile(file, junk);
    const cache = new BlobLocations(dir.path);
    assert.deepEqual(await cache.repositoriesOf("reg", A), []);
    cache.remember("reg", A, "ok/repo");
    await cache.save();
    assert.deepEqual(await new BlobLocations(dir.path).repositoriesOf("reg", A), ["ok/repo"]);
  }
});
