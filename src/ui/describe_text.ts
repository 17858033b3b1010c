/**
 * The text form of `describe` (the JSON form is the Description itself).
 *
 * @module
 */

import type { Description, ManifestSummary, PlatformEntry } from "../format/describe.ts";
import { formatBytes } from "./progress.ts";
import { escapeControl } from "./escape.ts";

/**
 * Render a description as aligned, human-readable lines.
 *
 * @example
 * ```ts ignore
 * console.log(describeText("oci:store:v1", description));
 * ```
 */
export function describeText(reference: string, d: Description): string {
  const lines: string[] = [];
  lines.push(`Reference:   ${reference}`);
  lines.push(`Digest:      ${d.digest}`);
  lines.push(`Media type:  ${d.mediaType} (${formatBytes(d.size)})`);
  // Labels, evidence and reasons quote the content (a Helm chart's name, a title): escaped
  // here, each field whole, so that a newline in one cannot forge a line.
  const e = escapeControl;
  lines.push(`Format:      ${e(d.format)}`);
  for (const [i, line] of d.evidence.entries()) {
    lines.push(`${i === 0 ? "  because    " : "             "}${e(line)}`);
  }
  if (d.artifactType) lines.push(`Artifact:    ${e(d.artifactType)}`);
  if (d.referrers) {
    const types = Object.entries(d.referrers.types).map(([t, n]) => `${e(t)} ${n}`).join(", ");
    lines.push(`Referrers:   ${d.referrers.count}${types ? ` (${types})` : ""}`);
  }
  annotationLines(lines, d.annotations, "");
  if (d.platforms.length) {
    lines.push("Platforms:");
    const width = Math.max(...d.platforms.map((p) => (p.platform ?? "(none)").length));
    const labels = distinguishingAnnotations(d.platforms);
    for (const [i, p] of d.platforms.entries()) {
      const marks: string[] = [...labels[i]];
      if (p.attestation) {
        marks.push(`attestation${p.attestationFor ? ` of ${p.attestationFor}` : ""}, never pulled`);
      }
      if (d.selected?.digest === p.digest && !p.attestation) marks.push("selected");
      if (d.selected?.alsoMatching.includes(p.digest)) marks.push("also matches, not selected");
      lines.push(
        `  ${(p.platform ?? "(none)").padEnd(width)}  ${p.digest}${
          marks.length ? `  (${marks.join("; ")})` : ""
        }`,
      );
    }
  }
  if (d.selectionError) lines.push(`Pull:        nothing selected: ${e(d.selectionError)}`);
  if (d.selected) {
    lines.push(`Pull:        ${e(d.selected.reason)}`);
    const others = d.selected.alsoMatching.length;
    if (others) {
      lines.push(
        `             ${others} other entr${others > 1 ? "ies match" : "y matches"} too; ` +
          "pull takes the first and warns (pull REF@DIGEST to choose)",
      );
    }
  }
  if (d.manifest) manifestLines(lines, d.manifest, d.manifest.digest !== d.digest);
  return lines.join("\n");
}

function manifestLines(lines: string[], m: ManifestSummary, header: boolean): void {
  const e = escapeControl;
  if (header) {
    lines.push(`Manifest:    ${m.digest} (${e(m.format)})`);
    lines.push(`  media type ${e(m.mediaType)}`);
    for (const line of m.evidence) lines.push(`  because    ${e(line)}`);
    if (m.artifactType) lines.push(`  artifact   ${e(m.artifactType)}`);
    annotationLines(lines, m.annotations, "  ");
  }
  lines.push(
    `Config:      ${e(m.config.mediaType)}, ${formatBytes(m.config.size)}${
      m.platform ? `, platform ${m.platform}` : ""
    }`,
  );
  lines.push(`Layers:      ${m.layers.length}`);
  for (const [i, l] of m.layers.entries()) {
    const what = l.action === "file"
      ? `file ${l.title}`
      : l.action === "unpack"
      ? `directory ${l.title}/`
      : l.action === "tar"
      ? "tar"
      : `${l.action}: ${l.reason}`;
    lines.push(
      `  ${i + 1}. ${e(l.mediaType)}  ${formatBytes(l.size)}  ${l.digest.slice(0, 19)}  ${e(what)}`,
    );
  }
}

/**
 * For entries that share a platform, the annotations that tell them apart
 * (`cname=aws-amd64`), at most two per entry.
 */
function distinguishingAnnotations(entries: PlatformEntry[]): string[][] {
  return entries.map((entry) => {
    const same = entries.filter((e) => e.platform === entry.platform && !e.attestation);
    if (entry.attestation || same.length < 2) return [];
    const keys = Object.keys(entry.annotations).filter((key) =>
      new Set(same.map((e) => e.annotations[key])).size > 1
    );
    return keys.slice(0, 2).map((key) => escapeControl(`${key}=${entry.annotations[key]}`));
  });
}

function annotationLines(lines: string[], annotations: Record<string, string>, indent: string) {
  const keys = Object.keys(annotations);
  if (!keys.length) return;
  lines.push(`${indent}Annotations:`);
  // Keys and values are the image's: escaped whole, so a newline cannot forge a line.
  for (const key of keys) {
    lines.push(`${indent}  ${escapeControl(key)}: ${escapeControl(annotations[key])}`);
  }
}
