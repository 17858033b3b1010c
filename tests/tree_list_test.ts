import assert from "node:assert/strict";
import { join } from "node:path";
import { collectTree, comparePaths } from "../src/archive/walk.ts";

async function tree(root: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), content);
  }
  return root;
}

Deno.test("the walk lists merged inputs once each, in comparePaths order, with their sources", async () => {
  const base = await Deno.makeTempDir();
  // Names around "/" in sort order: "a" < "a/x" < "a b" < "a-b" < "ab"; non-ASCII after ASCII.
  const one = await tree(join(base, "one"), {
    "a/x": "1",
    "a b": "2",
    "ab/c/d": "3",
    "é": "4",
    "Z": "5",
  });
  const two = await tree(join(base, "two"), { "a/y": "6", "a-b": "7", "ab/c/e": "8" });
  const list = collectTree([one, two]);
  const entries = [...list];
  const paths = entries.map((e) => e.path);
  assert.deepEqual(paths, [...paths].sort(comparePaths));
  assert.deepEqual(paths, [
    "Z",
    "a",
    "a/x",
    "a/y",
    "a b",
    "a-b",
    "ab",
    "ab/c",
    "ab/c/d",
    "ab/c/e",
    "é",
  ]);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.equal(byPath.get("a/y")!.source, join(two, "a/y"));
  assert.equal(byPath.get("ab/c/d")!.source, join(one, "ab/c/d"));
  assert.equal(byPath.get("a")!.type, "directory");
  assert.equal(byPath.get("é")!.size, 1);
  assert.ok(byPath.get("Z")!.identity);
  // Random access rebuilds the same entry as iteration.
  for (let i = 0; i < list.length; i++) assert.deepEqual(list.at(i), entries[i]);
  await Deno.remove(base, { recursive: true });
});

Deno.test("the walk refuses a name two inputs both give as a file", async () => {
  const base = await Deno.makeTempDir();
  const one = await tree(join(base, "one"), { "d/f": "1" });
  const two = await tree(join(base, "two"), { "d/f": "2" });
  assert.throws(() => collectTree([one, two]), /d\/f is given twice/);
  await Deno.remove(base, { recursive: true });
});

Deno.test("a file input is listed under its base name with its own path as source", async () => {
  const base = await Deno.makeTempDir();
  await tree(base, { "dir/b.txt": "b", "a.txt": "a" });
  const entries = [...collectTree([join(base, "dir"), join(base, "a.txt")])];
  assert.deepEqual(entries.map((e) => [e.path, e.source]), [
    ["a.txt", join(base, "a.txt")],
    ["b.txt", join(base, "dir/b.txt")],
  ]);
  await Deno.remove(base, { recursive: true });
});
