import assert from "node:assert/strict";
import { runTool } from "./support/cli.ts";

Deno.test("the benchmark harness runs end to end on tiny data (--smoke) and prints its table", async () => {
  const bench = new URL("../bench/bench.ts", import.meta.url).pathname;
  const result = await runTool(Deno.execPath(), ["run", "-A", "--quiet", bench, "--smoke"]);
  const lines = result.stdout.trim().split("\n");
  assert.match(lines[0], /gzip level 1 .* compression workers.*SMOKE/);
  const table = lines.filter((l) => l.startsWith("| "));
  assert.match(
    table[0],
    /^\| operation +\| MiB\/s +\| wall \(median\) +\| CPU +\| runs +\| peak RSS/,
  );
  for (
    const operation of [
      /push 8 MiB .* -> layout, gzip -1/,
      /pull 8 MiB .* <- layout \(gzip\)/,
      /push 8 MiB .* -> layout, zstd/,
      /upload limit: skopeo copy/,
      /push 8 MiB .* -> registry, gzip -1, \d+ workers +\|.*\| tar \\\| gzip -1 \\\| curl PATCH/,
      /re-push 8 MiB .* -> registry, unchanged/,
      /pull 8 MiB .* <- registry +\|.*\| curl blob/,
      /cached re-pull 8 MiB .* <- registry vs first pull +\|.*\| artifact-cli, empty content cache/,
      /push 300 files .* gzip -6 +\|.*\| tar czf/,
      /pull 300 files .* <- layout +\|.*\| tar xzf/,
      /resumed upload: bytes re-sent .*\| restart from zero/,
    ]
  ) {
    assert.ok(table.some((row) => operation.test(row)), `${operation} missing:\n${result.stdout}`);
  }
  // Every measured row has a positive wall time and a peak RSS.
  for (const row of table.slice(1)) assert.match(row, /\| \d+\.\d\d s +\|.*\| \d+ MiB +\|/);
});
