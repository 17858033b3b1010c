/**
 * The bench table's "met" column: a row with a time target and a peak RSS
 * target (issue 13's memory targets) is met only when both are.
 */

import assert from "node:assert/strict";
import { formatTable, type Row, RSS_TARGETS, TARGETS } from "../bench/table.ts";
import type { Sample } from "../bench/measure.ts";

const sample = (wall: number, rssMiB: number): Sample => ({
  wall,
  rssKiB: rssMiB * 1024,
  cpu: wall,
  stdout: "",
});

function verdict(row: Row): string {
  const line = formatTable([row]).split("\n")[2];
  const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
  return cells[cells.length - 2];
}

const baseline = { name: "tar", samples: [sample(4, 2)] };

Deno.test("a row meeting its time target but over its RSS target is not met", () => {
  const row = { operation: "pull", bytes: 1, baseline, target: TARGETS.within1_2 };
  assert.equal(verdict({ ...row, ours: [sample(1, 70)], maxRssMiB: RSS_TARGETS.pull }), "yes");
  assert.equal(verdict({ ...row, ours: [sample(1, 81)], maxRssMiB: RSS_TARGETS.pull }), "NO");
  assert.equal(verdict({ ...row, ours: [sample(5, 70)], maxRssMiB: RSS_TARGETS.pull }), "NO");
});

Deno.test("a memory check with no baseline is judged by its peak RSS alone", () => {
  const row = { operation: "push 2 GiB", bytes: 1, maxRssMiB: RSS_TARGETS.push };
  assert.equal(verdict({ ...row, ours: [sample(9, 101)] }), "yes");
  assert.equal(verdict({ ...row, ours: [sample(9, 113)] }), "NO");
  assert.match(formatTable([{ ...row, ours: [sample(9, 101)] }]), /RSS <= 112 MiB/);
});

Deno.test("a row without targets has an empty verdict", () => {
  assert.equal(verdict({ operation: "re-push", bytes: 1, ours: [sample(1, 90)] }), "");
});
