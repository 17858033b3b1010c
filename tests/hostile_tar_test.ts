/**
 * The hostile tar suite through the real CLI: each case's layers are stored
 * as blobs in an OCI layout and pulled with `artifact-cli pull oci:...` as a
 * subprocess into a directory holding an earlier pull. Every case checks the
 * exit code, the message, the resulting tree, and that nothing outside the
 * output directory changed (the whole scratch parent is compared).
 * GNU tar's behaviour on the same inputs: hostile_tar_gnu_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { HOSTILE_CASES } from "./support/hostile_cases.ts";
import { describe, runArtifactCli } from "./support/hostile_run.ts";
import { MT, RawLayout, sha256 } from "./support/layout_builder.ts";
import { runCli } from "./support/cli.ts";
import { buildTar, concat } from "./support/tar_builder.ts";
import { tempDir } from "./support/tree.ts";

const PREVIOUS = ['previous.txt file 644 "from an earlier pull\\n"'];

interface Expected {
  /** 0: extracted (possibly neutralised); 1: refused. */
  code: 0 | 1;
  /** The error line (refused) or a warning (neutralised). */
  message?: RegExp;
  /** Tree after a successful pull; a refused pull must leave PREVIOUS. */
  tree?: string[] | ((outside: string) => string[]);
}

const refused = (message: RegExp): Expected => ({ code: 1, message });

/** What artifact-cli must do with each case of HOSTILE_CASES. */
const EXPECTED: Record<string, Expected> = {
  "dotdot": refused(/^error: refusing "\.\.\/escaped\.txt": path contains "\.\."$/),
  "dotdot-inner": refused(/path contains "\.\."/),
  "absolute": {
    code: 0,
    message: /removing leading "\/" from member names/,
    tree: (outside) => {
      const parts = outside.slice(1).split("/");
      return [
        ...parts.map((_, i) => `${parts.slice(0, i + 1).join("/")} dir 755`),
        `${parts.join("/")}/abs.txt file 644 "x"`,
      ];
    },
  },
  "symlink-escape-absolute": refused(/refusing "link\/pwned\.txt": link is a symlink/),
  "symlink-escape-relative": refused(/refusing "link\/pwned\.txt": link is a symlink/),
  "symlink-escape-next-layer": refused(/refusing "link\/pwned\.txt": link is a symlink/),
  "symlink-chain": refused(/refusing "a\/outside\/pwned\.txt": a is a symlink/),
  "symlink-overwrite-target": { code: 0, tree: ['secret file 644 "overwritten"'] },
  "hardlink-absolute": refused(
    /h: hard link to ".*", which is not a regular file extracted earlier/,
  ),
  "hardlink-dotdot": refused(/refusing "\.\.\/outside\/secret\.txt": path contains "\.\."/),
  "hardlink-then-write": refused(/h: hard link to/),
  "hardlink-to-symlink": refused(/h: hard link to "s", which is not a regular file/),
  "hardlink-through-symlink": refused(/refusing "d\/secret\.txt": d is a symlink/),
  "devices-and-fifo": {
    code: 0,
    message: /skipping .*null: chardev entries are not extracted/,
    tree: ['after.txt file 644 "after"'],
  },
  "setuid-setgid": {
    code: 0,
    message: /dropped setuid\/setgid bits from 2 entries/,
    tree: ["sgid-dir dir 775", "sticky dir 1777", 'suid file 755 "#!/bin/sh\\n"'],
  },
  "pax-long-name": {
    code: 0,
    tree: [
      `${"d".repeat(100)} dir 755`,
      `${"d".repeat(100)}/${"e".repeat(100)} dir 755`,
      `${"d".repeat(100)}/${"e".repeat(100)}/${"f".repeat(100)}.txt file 644 "long"`,
    ],
  },
  "pax-component-too-long": refused(/a path component is longer than 255 bytes/),
  "gnu-longname-dotdot": refused(/refusing "\.\.\/x+": path contains "\.\."/),
  "pax-path-nul": refused(/refusing entry with a NUL in its name/),
  "duplicate-entries": { code: 0, tree: ['dup.txt file 644 "second"'] },
  "file-replaces-dir": { code: 0, tree: ['a file 644 "now a file"'] },
  "dir-replaces-file": { code: 0, tree: ["b dir 755", 'b/c.txt file 644 "c"'] },
  "whiteout-dotdot": refused(/refusing "\.\.\/\.wh\.outside": path contains "\.\."/),
  "whiteout-through-symlink": {
    code: 0,
    message: /ignoring whiteout .*link\/\.wh\.secret\.txt: its parent is a symlink/,
    tree: (outside) => [`link symlink -> ${outside}`],
  },
  "gzip-bomb": refused(/content exceeds the size limit of 4194304 bytes/),
  "bomb-in-skipped-body": refused(/content exceeds the size limit of 4194304 bytes/),
  "bomb-after-end": { code: 0, tree: ['small.txt file 644 "small"'] },
  "negative-size": refused(/^error: negative size in tar header$/),
  "base256-size": { code: 0, tree: ['b256.txt file 644 "hello"'] },
  "huge-pax-record": refused(/metadata records for one entry exceed the limit of 1048576 bytes/),
  "many-pax-headers": refused(/metadata records for one entry exceed the limit of 1048576 bytes/),
  "sparse-gnu": refused(/sparse files \(GNU type 'S'\) are not supported/),
  "sparse-pax": refused(/sparse tar entries are not supported/),
  "bad-checksum": refused(/invalid tar header checksum/),
  "truncated-body": refused(/^error: tar archive is truncated$/),
  "no-end-marker": { code: 0, tree: ['open.txt file 644 "x"'] },
  "path-too-long": refused(/the path is longer than the system allows \(4096 bytes\)/),
  "symlink-target-too-long": refused(/symlink target is longer than 4095 bytes/),
  "file-named-root": refused(/a file cannot replace the root/),
  "hardlink-to-dir": refused(/h: hard link to "d", which is not a regular file/),
};

Deno.test("every hostile case has an expectation, and the security document's table lists it", async () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), Object.keys(HOSTILE_CASES).sort());
  const section = await Deno.readTextFile(new URL("../docs/security.md", import.meta.url));
  for (const id of Object.keys(HOSTILE_CASES)) {
    assert.match(section, new RegExp(`\\| \`${id}\``), `docs/security.md table row for ${id}`);
  }
});

for (const [id, testCase] of Object.entries(HOSTILE_CASES)) {
  const expected = EXPECTED[id];
  const verb = expected.code === 0 ? "is neutralised" : "is refused";
  Deno.test(`hostile tar through the CLI: ${id} ${verb}, nothing changes outside the output`, async () => {
    await using dir = await tempDir("artifact-cli-hostile-");
    const outcome = await runArtifactCli(testCase, dir.path);
    assert.deepEqual(outcome.outsideChanges, [], "changes outside the output directory");
    assert.equal(outcome.code, expected.code, outcome.stderr);
    if (expected.code === 0) {
      const tree = typeof expected.tree === "function"
        ? expected.tree(join(dir.path, "outside"))
        : expected.tree;
      assert.deepEqual(outcome.tree, tree);
    } else {
      const errors = outcome.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1, outcome.stderr);
      assert.deepEqual(outcome.tree, PREVIOUS, "a refused pull leaves the output as it was");
    }
    if (expected.message) assert.match(outcome.stderr.trim(), expected.message);
    // No temporary directories are left next to the output.
    const leftovers = [...Deno.readDirSync(dir.path)].map((e) => e.name)
      .filter((n) => n.includes("artifact-cli"));
    assert.deepEqual(leftovers, []);
  });
}

/** A layout whose only image has one gzip layer with exactly these blob bytes. */
async function layoutWithBlob(root: string, blob: Uint8Array, digest?: string) {
  const layout = await RawLayout.create(root);
  const layer = await layout.addBlob(blob, MT.layerGzip);
  if (digest) {
    // Store the same bytes under a digest they do not have.
    await Deno.rename(layout.blobPath(layer.digest), layout.blobPath(digest));
    layer.digest = digest;
  }
  const manifest = await layout.addManifest([layer]);
  await layout.setIndex([{ ...manifest, tag: "v1" }]);
  return layout;
}

Deno.test("data after the end-of-archive marker is not decompressed, but the blob is still verified", async () => {
  await using dir = await tempDir();
  // A complete tar, then (in the same gzip member) 8 MiB of zeros, then a
  // corrupt second gzip member. Decompressing past the end marker would hit
  // the corruption (exit 5); stopping at the marker never sees it.
  const tar = buildTar([{ name: "a.txt", content: "a" }]);
  const member = zlib.gzipSync(concat([tar, new Uint8Array(8 * 1024 * 1024)]));
  const corrupt = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8]);
  const blob = concat([member, corrupt]);
  const good = await layoutWithBlob(join(dir.path, "good"), blob);
  const out = join(dir.path, "out");
  const ok = await runCli(["pull", `oci:${good.root}:v1`, "-o", out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(describe(out), ['a.txt file 644 "a"']);

  // The same bytes under another digest: the rest of the blob is still read and checked.
  const wrong = sha256(new TextEncoder().encode("something else"));
  const bad = await layoutWithBlob(join(dir.path, "bad"), blob, wrong);
  const failed = await runCli(["pull", `oci:${bad.root}:v1`, "-o", out]);
  assert.equal(failed.code, 5, failed.stderr);
  assert.match(failed.stderr, /digest mismatch/);
  assert.deepEqual(describe(out), ['a.txt file 644 "a"']);
});
