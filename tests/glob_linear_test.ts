import assert from "node:assert/strict";
import { join } from "node:path";
import { compileGlob, type Glob, MAX_GLOB_LENGTH } from "../src/archive/glob.ts";
import { UsageError } from "../src/errors.ts";
import { runCli } from "./support/cli.ts";
import { Rng } from "./support/fuzz.ts";
import { describeTree, tempDir } from "./support/tree.ts";

// The RegExp implementation this module had before, kept as the oracle for
// inputs small enough not to blow up its backtracking.
function oracle(pattern: string): (path: string, isDir: boolean) => boolean {
  let body = pattern.trim();
  const dirOnly = body.endsWith("/");
  if (dirOnly) body = body.replace(/\/+$/, "");
  const anchored = body.includes("/");
  body = body.replace(/^\.?\//, "");
  const regex = new RegExp(`^${translate(body)}$`);
  return (path, isDir) => {
    if (dirOnly && !isDir) return false;
    if (anchored) return regex.test(path);
    const slash = path.lastIndexOf("/");
    return regex.test(slash >= 0 ? path.slice(slash + 1) : path);
  };
}

function translate(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        if (glob[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else {
          out += ".*";
          i += 1;
        }
      } else {
        out += "[^/]*";
      }
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
      } else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else {
      out += c.replace(/[.+^${}()|\\]/g, "\\$&");
    }
  }
  return out;
}

const TABLE_PATTERNS = [
  "*.log",
  " *.log ",
  "/build",
  "./build",
  "build/",
  "build//",
  "/",
  "./",
  "",
  "docs/*.md",
  "docs/**",
  "docs/**/",
  "**/tmp",
  "a/**/z",
  "x**/b",
  "***",
  "***/b",
  "a**b",
  "**",
  "**/",
  "file?.txt",
  "[abc].txt",
  "[!abc].txt",
  "[^abc].txt",
  "[a-c-e]",
  "[--a]",
  "[a-]",
  "[-a]",
  "[\\]",
  "[\\-a]",
  "[!^]",
  "[]",
  "[",
  "a[",
  "[a",
  "a]",
  "[[]",
  "[[:alpha:]]",
  "a[!x]b",
  "a/[!x]/b",
  "[.-0]",
  "(x).txt",
  "a+b",
  "$x^",
  "a{b}",
  "a|b",
  ".git",
  "./a/./b",
  "a\\*",
];
const TABLE_PATHS = [
  "a.log",
  "deep/er/a.log",
  "a.log.txt",
  " a.log",
  "build",
  "src/build",
  "docs/a.md",
  "docs/x/a.md",
  "docs",
  "a/z",
  "a/b/c/z",
  "xb",
  "x/b",
  "xyz/q/b",
  "b",
  "a/b",
  "ab",
  "a/xb",
  "file1.txt",
  "file10.txt",
  "b.txt",
  "d.txt",
  "^.txt",
  "-",
  "e",
  "d",
  "\\",
  "[",
  "]",
  "[]",
  "a[",
  "[a",
  "a]",
  "a/b/c",
  "/",
  ".",
  "0",
  "(x).txt",
  "a+b",
  "$x^",
  "a{b}",
  "a|b",
  "sub/.git",
  "a/./b",
  "a*",
  "ax",
  "",
];

Deno.test("glob matches exactly what the old RegExp matched on a table of patterns and paths", () => {
  let matched = 0;
  for (const pattern of TABLE_PATTERNS) {
    const glob = compileGlob(pattern);
    const old = oracle(pattern);
    for (const path of TABLE_PATHS) {
      for (const isDir of [false, true]) {
        const want = old(path, isDir);
        assert.equal(glob.matches(path, isDir), want, `${pattern} on ${path} (dir ${isDir})`);
        if (want) matched++;
      }
    }
  }
  assert.ok(matched > 100, `only ${matched} matches: the table checks too little`);
});

const PATTERN_PIECES = [
  "a",
  "b",
  "c",
  "/",
  "*",
  "**",
  "**/",
  "?",
  "[",
  "]",
  "!",
  "^",
  "-",
  ".",
  "\\",
  "(",
  "+",
  "$",
  " ",
  "./",
  "[a-c]",
  "[!a]",
  "[^/]",
  "[b-]",
];
const PATH_CHARS = ["a", "b", "c", "/", "-", ".", "!", "^", "[", "]", "\\", "(", "+", "$", "x"];

/** A path built to fit `pattern` roughly, so that many pairs match. */
function instantiate(rng: Rng, pattern: string): string {
  let out = "";
  for (const c of pattern) {
    if (c === "*") { for (let k = rng.int(3); k > 0; k--) out += rng.pick(PATH_CHARS); }
    else if (c === "?" || c === "[") out += rng.pick(PATH_CHARS);
    else if (!rng.chance(0.1)) out += c;
  }
  return out;
}

Deno.test("glob agrees with the old RegExp on 60,000 generated pattern and path pairs", () => {
  const rng = new Rng(16);
  let compared = 0;
  let matched = 0;
  let refused = 0;
  for (let p = 0; p < 3000; p++) {
    let pattern = "";
    for (let k = 1 + rng.int(8); k > 0; k--) pattern += rng.pick(PATTERN_PIECES);
    let glob: Glob;
    try {
      glob = compileGlob(pattern);
    } catch (e) {
      // Only nonsense classes are refused; the old code threw or matched by accident.
      assert.ok(e instanceof UsageError, `${pattern}: ${e}`);
      assert.match(e.message, /reversed range|empty character class/);
      refused++;
      continue;
    }
    const old = oracle(pattern); // throws only where compileGlob refused
    for (let q = 0; q < 20; q++) {
      let path = "";
      if (q % 2) path = instantiate(rng, pattern);
      else for (let k = rng.int(10); k > 0; k--) path += rng.pick(PATH_CHARS);
      const isDir = rng.chance(0.5);
      const want = old(path, isDir);
      assert.equal(glob.matches(path, isDir), want, `${JSON.stringify(pattern)} on ${path}`);
      compared++;
      if (want) matched++;
    }
  }
  assert.ok(compared > 50_000 && matched > 5_000, `${compared} compared, ${matched} matched`);
  assert.ok(refused > 0 && refused < 300, `${refused} refused`);
});

Deno.test("glob deviations from the old RegExp: ** crosses line breaks, ? matches one emoji", () => {
  // `.` in the RegExp stopped at line breaks, so "secret/**" missed "secret/a\nb".
  assert.equal(oracle("secret/**")("secret/a\nb", false), false);
  assert.equal(compileGlob("secret/**").matches("secret/a\nb", false), true);
  assert.equal(compileGlob("**/x").matches("a\rb/x", false), true);
  assert.equal(compileGlob("*").matches("a\nb", false), true);
  assert.equal(compileGlob("?.txt").matches("😀.txt", false), true);
  assert.equal(compileGlob("[😀😁].txt").matches("😁.txt", false), true);
  assert.equal(compileGlob("??.txt").matches("😀.txt", false), false);
});

/** [pattern, name, tokens, expected]: inputs that make a backtracking matcher explode. */
const WORST: [string, string, number, boolean][] = [
  ["*a".repeat(24) + "*b", "a".repeat(120), 50, false],
  ["**/".repeat(10) + "zz", `${"d/".repeat(40)}x`, 12, false],
  ["**/".repeat(10) + "zz", `${"d/".repeat(40)}zz`, 12, true],
  ["*?".repeat(50) + "b", "a".repeat(120), 101, false],
  ["**a".repeat(30) + "**b", "a/".repeat(60), 62, false],
  ["**/a/".repeat(10) + "b", `${"a/".repeat(60)}c`, 31, false],
  ["[!b]*".repeat(20) + "b", "a".repeat(120), 41, false],
  [`*[${"ace".repeat(300)}]`.repeat(3) + "*b", "a".repeat(120), 8, false],
  [`*[${"!-~".repeat(300)}]`.repeat(3) + "*b", "a".repeat(120), 8, false],
  ["*a".repeat(MAX_GLOB_LENGTH / 2 - 1) + "*b", "a".repeat(200), MAX_GLOB_LENGTH - 1, false],
  ["/" + "*/".repeat(30) + "**/x", `${"d/".repeat(80)}y`, 63, false],
];

Deno.test("glob matching work is bounded by name length × tokens, whatever the input", () => {
  const probe = { steps: 0 };
  compileGlob("*.log").matches("a.log", false, probe);
  assert.ok(probe.steps > 0, "matching counts its work");
  for (const [pattern, name, tokens, expected] of WORST) {
    const stats = { steps: 0 };
    assert.equal(compileGlob(pattern).matches(name, false, stats), expected, pattern);
    const bound = 4 * (name.length + 1) * (tokens + 1);
    assert.ok(stats.steps <= bound, `${pattern.slice(0, 40)}: ${stats.steps} steps > ${bound}`);
  }
});

Deno.test("an invalid glob is a UsageError naming it, escaped and cut to one line", () => {
  const cases: [string, RegExp][] = [
    ["[z-a]", /^invalid glob "\[z-a\]": reversed range "z-a" in a character class$/],
    ["docs/a[b-a]c", /reversed range "b-a"/],
    ["[]a]", /empty character class "\[\]"/],
    ["[!]", /empty character class "\[!\]"/],
    ["[^]", /empty character class "\[\^\]"/],
    ["\x1b[2J[\x1b-\x07]", /^invalid glob "\\033\[2J\[\\033-\\a\]": reversed range "\\033-\\a"/],
    ["a".repeat(MAX_GLOB_LENGTH + 1), /"a{80}…" \(4097 characters\): longer than 4096 characters$/],
    ["\n".repeat(100_000), /"(\\n){80}…" \(100000 characters\): longer than 4096/],
  ];
  for (const [pattern, message] of cases) {
    assert.throws(() => compileGlob(pattern), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.equal(e.exitCode, 2);
      assert.match(e.message, message);
      // deno-lint-ignore no-control-regex
      assert.ok(!/[\x00-\x1f]/.test(e.message) && e.message.length < 300, e.message);
      return true;
    });
  }
  // The longest accepted glob still compiles; "[]" and a lone "[" stay literals.
  assert.ok(compileGlob("*".repeat(MAX_GLOB_LENGTH)).matches("abc", false));
  assert.ok(compileGlob("[]").matches("x/[]", false));
  assert.ok(compileGlob("a[").matches("a[", false));
});

Deno.test("push --exclude with an invalid glob exits 2 with one line and writes nothing", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(join(dir.path, "src"));
  await Deno.writeTextFile(join(dir.path, "src", "a.txt"), "a\n");
  for (const glob of ["[z-a]", "*".repeat(100_000)]) {
    const result = await runCli(["push", "oci:store:v1", "src", "--exclude", glob], {
      cwd: dir.path,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^error: invalid glob "/);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["src"]);
});

Deno.test("push --exclude with ten **/ over a 40-deep tree leaves out exactly the matching file", async () => {
  await using dir = await tempDir();
  const deep = join(dir.path, "src", ..."d".repeat(40));
  await Deno.mkdir(deep, { recursive: true });
  await Deno.writeTextFile(join(deep, "zz"), "excluded\n");
  await Deno.writeTextFile(join(deep, "zy"), "kept\n");
  const glob = `${"**/".repeat(10)}zz`;
  const push = await runCli(["push", "oci:store:v1", "src", "--exclude", glob], {
    cwd: dir.path,
  });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runCli(["pull", "oci:store:v1", "-o", "out"], { cwd: dir.path });
  assert.equal(pull.code, 0, pull.stderr);
  const files = describeTree(join(dir.path, "out"), { modes: false }).filter((l) =>
    l.includes(" file ")
  );
  assert.deepEqual(files, [`${"d/".repeat(40)}zy file "kept\\n"`]);
});

Deno.test("sync with an invalid glob in its config exits 2 naming the field, before pulling", async () => {
  await using dir = await tempDir();
  const cwd = dir.path;
  await Deno.mkdir(join(cwd, "src"));
  await Deno.writeTextFile(join(cwd, "src", "a.txt"), "a\n");
  const push = await runCli(["push", "oci:store:v1", "src"], { cwd });
  assert.equal(push.code, 0, push.stderr);
  const cases: [string, RegExp][] = [
    [
      `excludePaths: ["*.tmp", "[z-a]"]`,
      /artifacts\[0\]\.excludePaths\[1\]: invalid glob "\[z-a\]"/,
    ],
    [`includePaths: ["${"?".repeat(5000)}"]`, /includePaths\[0\]: invalid glob .* longer than/],
  ];
  for (const [filter, message] of cases) {
    await Deno.writeTextFile(
      join(cwd, "sync.yml"),
      `destination: out\nartifacts:\n  - image: oci:store:v1\n    path: files\n    ${filter}\n`,
    );
    const result = await runCli(["sync", "-c", "sync.yml"], { cwd });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.deepEqual([...Deno.readDirSync(cwd)].map((e) => e.name).sort(), [
      "src",
      "store",
      "sync.yml",
    ]);
  }
});
