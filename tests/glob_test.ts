import assert from "node:assert/strict";
import { compileGlob } from "../src/archive/glob.ts";

const cases: [string, string, boolean, boolean][] = [
  // pattern, path, isDir, expected
  ["*.log", "a.log", false, true],
  ["*.log", "deep/er/a.log", false, true],
  ["*.log", "a.log.txt", false, false],
  ["/build", "build", true, true],
  ["/build", "src/build", true, false],
  ["build/", "src/build", true, true],
  ["build/", "src/build", false, false],
  ["docs/*.md", "docs/a.md", false, true],
  ["docs/*.md", "docs/x/a.md", false, false],
  ["docs/**", "docs/x/a.md", false, true],
  ["**/tmp", "a/b/tmp", true, true],
  ["**/tmp", "tmp", true, true],
  ["a/**/z", "a/z", false, true],
  ["a/**/z", "a/b/c/z", false, true],
  ["file?.txt", "file1.txt", false, true],
  ["file?.txt", "file10.txt", false, false],
  ["[abc].txt", "b.txt", false, true],
  ["[!abc].txt", "b.txt", false, false],
  [".git", "sub/.git", true, true],
  ["a+b.txt", "a+b.txt", false, true],
  ["(x).txt", "(x).txt", false, true],
];

for (const [pattern, path, isDir, expected] of cases) {
  Deno.test(`glob ${pattern} ${expected ? "matches" : "does not match"} ${path}${isDir ? "/" : ""}`, () => {
    assert.equal(compileGlob(pattern).matches(path, isDir), expected);
  });
}
