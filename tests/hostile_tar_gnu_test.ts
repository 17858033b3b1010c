/**
 * GNU tar (1.34, `tar -xf`, each layer extracted in turn into the same
 * directory) on the hostile tar suite, as root and as an unprivileged user
 * (nobody, via setpriv), so that the comparison table in docs/security.md is checked
 * rather than remembered. Needs root (to run as both); the tests say so in
 * their names and are reported as ignored, not skipped silently, otherwise.
 */

import assert from "node:assert/strict";
import { HOSTILE_CASES } from "./support/hostile_cases.ts";
import { runGnuTar } from "./support/hostile_run.ts";
import { runTool } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

/** What GNU tar does: exit code, whether it changed anything outside, and tree lines it leaves. */
interface Gnu {
  code: number;
  escaped?: boolean;
  has?: (string | RegExp)[];
  lacks?: (string | RegExp)[];
}
type Both = { root: Gnu; nobody: Gnu };
const same = (gnu: Gnu): Both => ({ root: gnu, nobody: gnu });

const GNU: Record<string, Both> = {
  "dotdot": same({ code: 2, lacks: [/escaped/] }),
  "dotdot-inner": same({ code: 2, lacks: [/escaped/] }),
  "absolute": same({ code: 0, has: [/outside\/abs\.txt file/] }),
  "symlink-escape-absolute": same({ code: 2, has: [/^link symlink/] }),
  "symlink-escape-relative": same({ code: 2, has: ["link symlink -> ../outside"] }),
  "symlink-escape-next-layer": same({ code: 0, escaped: true }),
  "symlink-chain": same({ code: 2 }),
  // GNU tar's delayed-symlink check compares timestamps, so under load either
  // the symlink or the file wins; the target outside is untouched either way.
  "symlink-overwrite-target": same({
    code: 0,
    escaped: false,
    has: [/^secret (symlink -> |file 644 "overwritten")/],
  }),
  "hardlink-absolute": same({ code: 2, lacks: [/^h /] }),
  "hardlink-dotdot": same({ code: 2, lacks: [/^h /] }),
  "hardlink-then-write": same({ code: 2, has: ['h file 644 "overwritten"'] }),
  "hardlink-to-symlink": same({ code: 0, has: [/^h symlink -> .*outside\/secret\.txt$/] }),
  "hardlink-through-symlink": same({ code: 2, lacks: [/^h /] }),
  "devices-and-fifo": {
    root: { code: 0, has: ["null chardev 666", "disk blockdev 660", "fifo fifo 644"] },
    nobody: { code: 2, has: ["fifo fifo 644"], lacks: [/^disk/] },
  },
  "setuid-setgid": {
    root: { code: 0, has: [/^suid file 4755/, "sgid-dir dir 2775", "sticky dir 1777"] },
    nobody: { code: 0, has: [/^suid file 755/, "sgid-dir dir 755", "sticky dir 755"] },
  },
  "pax-long-name": same({ code: 0, has: [/f{100}\.txt file 644 "long"$/] }),
  "pax-component-too-long": same({ code: 2 }),
  "gnu-longname-dotdot": same({ code: 2, lacks: [/x{100}/] }),
  "pax-path-nul": same({ code: 0, has: ['ok.txt file 644 "x"'] }),
  "duplicate-entries": same({ code: 0, has: ['dup.txt file 644 "second"'] }),
  "file-replaces-dir": same({ code: 2, has: ["a dir 755", 'a/inner.txt file 644 "inner"'] }),
  "dir-replaces-file": same({ code: 0, has: ["b dir 755"] }),
  "whiteout-dotdot": same({ code: 2 }),
  "whiteout-through-symlink": same({ code: 0, escaped: true }),
  "gzip-bomb": same({ code: 0, has: ["zeros file 644 25165824 bytes"] }),
  "bomb-in-skipped-body": {
    root: { code: 0, has: ["dev chardev 644"] },
    nobody: { code: 0, has: ["dev chardev 644"] },
  },
  "bomb-after-end": same({ code: 0, has: ['small.txt file 644 "small"'] }),
  "negative-size": same({ code: 2, has: ['after.txt file 644 "x"'] }),
  "base256-size": same({ code: 0, has: ['b256.txt file 644 "hello"'] }),
  "huge-pax-record": same({ code: 0, has: ['p.txt file 644 "x"'] }),
  "many-pax-headers": same({ code: 0, has: ['after.txt file 644 "x"'] }),
  "sparse-gnu": same({ code: 0, has: ['sparse file 644 ""'] }),
  "sparse-pax": same({ code: 0, has: ["sparse file 644 1028 bytes"] }),
  "bad-checksum": same({ code: 2, lacks: [/bad\.txt/] }),
  "truncated-body": same({ code: 2, has: [/^cut\.txt file 6[04]{2} 512 bytes$/] }),
  "no-end-marker": same({ code: 0, has: ['open.txt file 644 "x"'] }),
  "path-too-long": same({ code: 2, lacks: [/f\.txt/] }),
  "symlink-target-too-long": same({ code: 2, lacks: [/^l /] }),
  "file-named-root": same({ code: 2 }),
  "hardlink-to-dir": same({ code: 2, lacks: [/^h /] }),
};

const isRoot = Deno.uid() === 0;

Deno.test("every hostile case has a GNU tar expectation", () => {
  assert.deepEqual(Object.keys(GNU).sort(), Object.keys(HOSTILE_CASES).sort());
});

Deno.test("the GNU tar compared against is GNU tar 1.34", async () => {
  const version = await runTool("tar", ["--version"]);
  assert.match(version.stdout, /^tar \(GNU tar\) 1\.34\n/);
});

for (const [id, testCase] of Object.entries(HOSTILE_CASES)) {
  for (const as of ["root", "nobody"] as const) {
    Deno.test({
      name: `GNU tar as ${as} on hostile tar ${id} behaves as docs/security.md says (needs root)`,
      ignore: !isRoot,
      fn: async () => {
        await using dir = await tempDir("artifact-cli-gnu-");
        const outcome = await runGnuTar(testCase, dir.path, as);
        const expected = GNU[id][as];
        const detail = `${outcome.stderr}\n${outcome.tree.join("\n")}`;
        assert.equal(outcome.code, expected.code, detail);
        assert.equal(outcome.outsideChanges.length > 0, !!expected.escaped, detail);
        for (const line of expected.has ?? []) {
          assert.ok(outcome.tree.some((l) => matches(l, line)), `${line} in ${detail}`);
        }
        for (const line of expected.lacks ?? []) {
          assert.ok(!outcome.tree.some((l) => matches(l, line)), `no ${line} in ${detail}`);
        }
      },
    });
  }
}

function matches(line: string, pattern: string | RegExp): boolean {
  return typeof pattern === "string" ? line === pattern : pattern.test(line);
}
