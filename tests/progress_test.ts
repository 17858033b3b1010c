import assert from "node:assert/strict";
import { createProgress, NO_PROGRESS, progressFor } from "../src/ui/progress.ts";
import { packingProgress } from "../src/push/pack_progress.ts";

/** A sink that keeps what the progress wrote. */
function sink() {
  const chunks: Uint8Array[] = [];
  return {
    writeSync(p: Uint8Array) {
      chunks.push(p.slice());
      return p.byteLength;
    },
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
  };
}

// deno-lint-ignore no-control-regex
const visibleLines = (text: string) => text.replace(/\x1b\[\d*[AJ]/g, "").split("\n");

Deno.test("on an 80-column terminal every bar line fits, with its amount, rate and ETA", () => {
  const out = sink();
  const progress = createProgress({
    enabled: true,
    out,
    columns: 80,
    color: false,
    intervalMs: 1e6,
  });
  const digest = `sha256:${"ab".repeat(32)}`;
  const long = progress.task(
    `${digest} a-very-long-file-name-that-goes-on-${"x".repeat(60)}.raw`,
    3 * 1024 ** 3,
  );
  long.add(1024 ** 3);
  const plain = progress.task(digest, 512 * 1024 ** 2);
  plain.add(100 * 1024 ** 2);
  progress.task("packing 20000 files", 2 * 1024 ** 3).add(1);
  long.done();
  progress.close("Pushed something");
  const lines = visibleLines(out.text()).filter(Boolean);
  for (const line of lines) assert.ok(line.length <= 79, `${line.length}: ${line}`);
  const bars = lines.filter((l) => l.includes(" / "));
  assert.ok(bars.length >= 3);
  for (const bar of bars) {
    assert.match(bar, /\d+(\.\d)? [KMG]?i?B \/ \d+(\.\d)? [KMG]i?B {2}[\d.]+ [KMGT]?i?B\/s/);
  }
  // Digests are shown short (12 hex digits, as docker shows IDs); the permanent line too.
  assert.ok(lines.some((l) => l.startsWith("abababababab  [")));
  assert.ok(lines.some((l) => /^✓ abababababab a-very-long/.test(l)));
  assert.ok(!out.text().includes("ab".repeat(32)));
});

Deno.test("packing progress counts tar bytes up to the tree's estimated size, then completes", () => {
  const out = sink();
  const progress = createProgress({
    enabled: true,
    out,
    columns: 100,
    color: false,
    intervalMs: 1e6,
  });
  const entries = [
    { path: "a", type: "file" as const, mode: 0o644, size: 1000, source: "a" },
    { path: "d", type: "directory" as const, mode: 0o755, size: 0, source: "d" },
  ];
  const packing = packingProgress(progress, entries);
  packing.onProgress(512);
  packing.onProgress(10_000_000); // PAX records can exceed the estimate: capped
  packing.done();
  progress.close();
  assert.match(out.text(), /packing 1 files {2}\[/);
  assert.match(out.text(), /✓ packing 1 files {2}3\.0 KiB in /);
});

Deno.test("--verbose without a terminal prints one line per finished task; --quiet prints nothing", () => {
  assert.equal(progressFor({ quiet: true, verbose: true }), NO_PROGRESS);
  const out = sink();
  const progress = progressFor({ quiet: false, verbose: true }, out);
  if (Deno.stderr.isTerminal()) return; // a terminal gets bars instead
  const task = progress.task("sha256:abc", 10);
  task.add(10);
  task.done();
  progress.task("sha256:def", 5).done("already present");
  progress.close("Pushed x");
  const lines = out.text().trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^sha256:abc {2}10 B in /);
  assert.equal(lines[1], "sha256:def  already present");
  assert.equal(lines[2], "Pushed x");
});

Deno.test("progress labels from content have control characters escaped on the terminal", () => {
  const hostile = "evil\x1b]0;owned\x07\x1b[2Jname\r\n\x9b31m.txt";
  {
    const out = sink();
    const progress = createProgress({
      enabled: true,
      out,
      columns: 200,
      color: false,
      intervalMs: 1e6,
    });
    const task = progress.task(hostile, 10);
    task.add(10);
    task.done();
    progress.close("done");
    // The only escape sequences left are the drawer's own cursor moves.
    // deno-lint-ignore no-control-regex
    const text = out.text().replace(/\x1b\[\d*[AJK]/g, "");
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    assert.match(text, /evil\\033\]0;owned\\a\\033\[2Jname\\r\\n\\302\\23331m\.txt/);
  }
});
