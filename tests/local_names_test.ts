/** Names on disk that Deno cannot represent: a clear error, not a misleading ENOENT. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

for (
  const [label, bytes, position] of [
    ["a lone 0xff", [0x62, 0x61, 0x64, 0xff, 0x2e, 0x74], 3],
    ["a truncated sequence", [0x61, 0xe2, 0x82], 1],
    ["an overlong encoding", [0x78, 0x79, 0xc0, 0xaf], 2],
  ] as const
) {
  Deno.test(`push of a tree holding a file name with ${label} fails with one line naming the directory and byte`, async () => {
    await using dir = await tempDir();
    const src = join(dir.path, "src", "deep");
    await Deno.mkdir(src, { recursive: true });
    await Deno.writeTextFile(join(src, "ok.txt"), "ok\n");
    // Only a raw byte path can make such a name; python writes it for us.
    const made = await new Deno.Command("python3", {
      args: [
        "-c",
        "import os,sys; open(os.fsencode(sys.argv[1]) + bytes.fromhex(sys.argv[2]), 'w')",
        `${src}/`,
        bytes.map((b) => b.toString(16).padStart(2, "0")).join(""),
      ],
    }).output();
    assert.equal(made.code, 0);
    const result = await runCli(["push", `oci:${dir.path}/store:v1`, join(dir.path, "src")]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.trim().split("\n").length, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `${src}: a file name is not valid UTF-8 \\(invalid byte at position ${position}`,
      ),
    );
    await assert.rejects(Deno.lstat(join(dir.path, "store")), Deno.errors.NotFound);
  });
}

Deno.test("push oci:L:../../evil is refused before any layout is created", async () => {
  const cwd = await Deno.makeTempDir();
  const inner = `${cwd}/a/b`;
  await Deno.mkdir(inner, { recursive: true });
  await Deno.writeTextFile(`${inner}/x.txt`, "x\n");
  for (const ref of ["oci:L:../../evil", "oci:L:../escape/x", "oci:L:.."]) {
    const result = await runCli(["push", ref, "x.txt"], { cwd: inner });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /invalid tag/);
  }
  const left: string[] = [];
  for (const dir of [cwd, `${cwd}/a`, inner]) {
    for (const e of Deno.readDirSync(dir)) left.push(`${dir.slice(cwd.length)}/${e.name}`);
  }
  assert.deepEqual(left.sort(), ["/a", "/a/b", "/a/b/x.txt"]);
  await Deno.remove(cwd, { recursive: true });
});
