/**
 * The benchmark's one result table.
 *
 * @module
 */

import { medianCpu, medianWall, peakRssMiB, type Sample } from "./measure.ts";

/** One line of the table. */
export interface Row {
  operation: string;
  /** Bytes of tree content, for MiB/s (0: not a throughput). */
  bytes: number;
  ours: Sample[];
  baseline?: { name: string; samples: Sample[] };
  /** Largest acceptable ours/baseline time ratio, e.g. 1 / 3 for "3× faster". */
  target?: { maxRatio: number; label: string };
  note?: string;
  /** Largest acceptable peak RSS (issue 13's memory targets); "met" needs it too. */
  maxRssMiB?: number;
  /** A quantity other than time (bytes re-sent...): the ratio column compares these instead. */
  value?: { ours: number; baseline: number; unit: string };
}

const MiB = 1024 * 1024;

/** The table as Markdown text: one header, one line per row, notes below. */
export function formatTable(rows: Row[], options: { verdicts?: boolean } = {}): string {
  const verdicts = options.verdicts ?? true;
  const header = [
    "operation",
    "MiB/s",
    "wall (median)",
    "CPU",
    "runs",
    "peak RSS",
    "baseline",
    "baseline wall (CPU)",
    "ours/baseline",
    "target",
    "met",
  ];
  const lines: string[][] = [header];
  const notes: string[] = [];
  for (const row of rows) {
    const wall = medianWall(row.ours);
    const base = row.baseline ? medianWall(row.baseline.samples) : undefined;
    const ratio = row.value ? row.value.ours / row.value.baseline : base ? wall / base : undefined;
    const rss = peakRssMiB(row.ours);
    const rssLabel = row.maxRssMiB === undefined ? "" : `RSS <= ${row.maxRssMiB} MiB`;
    const timeMet = !row.target || ratio === undefined ? undefined : ratio <= row.target.maxRatio;
    const rssMet = row.maxRssMiB === undefined ? undefined : rss <= row.maxRssMiB;
    const met = timeMet === undefined && rssMet === undefined
      ? undefined
      : timeMet !== false && rssMet !== false;
    lines.push([
      row.operation,
      row.bytes ? (row.bytes / MiB / wall).toFixed(0) : "",
      `${wall.toFixed(2)} s`,
      `${medianCpu(row.ours).toFixed(2)} s`,
      String(row.ours.length),
      `${rss.toFixed(0)} MiB`,
      row.baseline?.name ?? "",
      base === undefined
        ? ""
        : `${base.toFixed(2)} s (${medianCpu(row.baseline!.samples).toFixed(2)} s)`,
      ratio === undefined ? "" : ratio.toFixed(2),
      [row.target?.label, rssLabel].filter(Boolean).join(", "),
      !verdicts || met === undefined ? "" : met ? "yes" : "NO",
    ]);
    if (row.note) notes.push(`- ${row.operation}: ${row.note}`);
  }
  // A Markdown table: pipes inside cells (shell pipelines) are escaped.
  for (const line of lines) line.forEach((cell, i) => line[i] = cell.replaceAll("|", "\\|"));
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const out = [render(lines[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`];
  for (const line of lines.slice(1)) out.push(render(line));
  if (notes.length) out.push("", ...notes);
  return out.join("\n");
}

/** Issue 13's peak RSS targets. */
export const RSS_TARGETS = { push: 112, pull: 80 } as const;

/** The targets of issue 5, as table rows state them. */
export const TARGETS = {
  fourTimesFaster: { maxRatio: 1 / 4, label: "<= 0.25 (4x faster)" },
  threeTimesFaster: { maxRatio: 1 / 3, label: "<= 0.33 (3x faster)" },
  onePointSixTimesFaster: { maxRatio: 1 / 1.6, label: "<= 0.63 (1.6x faster)" },
  within1_2: { maxRatio: 1.2, label: "<= 1.2" },
  within1_5: { maxRatio: 1.5, label: "<= 1.5" },
} as const;
