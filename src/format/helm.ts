/**
 * Helm charts (`helm push`): the config is the chart's Chart.yaml metadata
 * as JSON, the one chart layer is the `helm package` .tgz, and an optional
 * layer holds its provenance. Pull writes them as `helm pull` does, as the
 * files `NAME-VERSION.tgz` and `NAME-VERSION.tgz.prov`, byte for byte (not
 * extracted).
 *
 * The name and version come from the config, which is untrusted: they are
 * checked to make one plain file name before anything is downloaded.
 *
 * @module
 */

import { ParseError, UnsafeContentError } from "../errors.ts";
import { isReservedName } from "../archive/reserved_names.ts";
import { HELM } from "../oci/media_types.ts";
import type { ImageManifest } from "../oci/types.ts";
import type { HelmChart } from "./detect.ts";
import type { PlannedLayer } from "./layer_plan.ts";

/**
 * Longest `NAME-VERSION` in UTF-8 bytes: with `.tgz.prov` appended it still
 * fits the 255-byte file name limit of Linux, macOS and Windows file systems.
 */
export const MAX_CHART_BASE_BYTES = 255 - ".tgz.prov".length;

/** What a Helm config says: the chart, or why it names none. */
export type HelmConfigFacts = { chart: HelmChart } | { problem: string };

/**
 * Read the chart's name and version from the bytes of a Helm config. Not
 * validated as file names here (describe shows them as they are).
 *
 * @example
 * ```ts
 * import { readHelmConfig } from "./helm.ts";
 * const facts = readHelmConfig(new TextEncoder().encode('{"name":"a","version":"1.0.0"}'));
 * console.assert("chart" in facts && facts.chart.name === "a");
 * ```
 */
export function readHelmConfig(bytes: Uint8Array): HelmConfigFacts {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    return { problem: `the Helm config is not JSON (${(e as Error).message})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problem: "the Helm config is not a JSON object" };
  }
  const { name, version } = value as Record<string, unknown>;
  if (typeof name !== "string") return { problem: "the Helm config has no string name" };
  if (typeof version !== "string") return { problem: "the Helm config has no string version" };
  return { chart: { name, version } };
}

/**
 * The file `helm pull` writes for `chart`: `NAME-VERSION.tgz`. Refuses
 * (UnsafeContentError, exit 1) a name or version that is empty, `.` or
 * `..`, holds `/`, `\`, NUL or another control character, starts a whiteout
 * (`.wh.`) or one of artifact-cli's temporary names, or makes a file name
 * over {@link MAX_CHART_BASE_BYTES} bytes.
 *
 * @example
 * ```ts
 * import { chartFileName } from "./helm.ts";
 * console.assert(chartFileName({ name: "peer-chart", version: "0.1.0" }) === "peer-chart-0.1.0.tgz");
 * ```
 */
export function chartFileName(chart: HelmChart): string {
  const base = `${chart.name}-${chart.version}`;
  const refuse = (why: string) =>
    new UnsafeContentError(
      `refusing Helm chart name ${JSON.stringify(chart.name.slice(0, 100))} version ${
        JSON.stringify(chart.version.slice(0, 100))
      }: ${why}`,
    );
  for (const [field, value] of [["name", chart.name], ["version", chart.version]] as const) {
    if (value === "") throw refuse(`the ${field} is empty`);
    if (value === "." || value === "..") throw refuse(`the ${field} is ${JSON.stringify(value)}`);
    if (/[/\\]/.test(value)) throw refuse(`the ${field} contains a path separator`);
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f-\x9f]/.test(value)) {
      throw refuse(`the ${field} contains a control character`);
    }
  }
  if (base.startsWith(".wh.")) throw refuse("names starting with .wh. are whiteouts");
  if (isReservedName(base)) throw refuse("it uses artifact-cli's temporary-name pattern");
  const bytes = new TextEncoder().encode(base).byteLength;
  if (bytes > MAX_CHART_BASE_BYTES) {
    throw refuse(`NAME-VERSION is ${bytes} bytes, over the ${MAX_CHART_BASE_BYTES}-byte limit`);
  }
  return `${base}.tgz`;
}

/**
 * Plan a Helm chart's layers: the chart layer becomes `NAME-VERSION.tgz`,
 * the provenance layer `NAME-VERSION.tgz.prov`, anything else is skipped
 * (helm ignores it too). Exactly one chart layer and at most one provenance
 * layer, else ParseError: helm would keep the last one, silently.
 *
 * @example
 * ```ts
 * import { planHelmLayers } from "./helm.ts";
 * const digest = `sha256:${"0".repeat(64)}` as const;
 * const plan = planHelmLayers({
 *   schemaVersion: 2,
 *   config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest, size: 2 },
 *   layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest, size: 1 }],
 * }, { chart: { name: "a", version: "1" } });
 * console.assert(plan[0].action === "file" && plan[0].title === "a-1.tgz");
 * ```
 */
export function planHelmLayers(
  manifest: ImageManifest,
  format: { chart?: HelmChart; chartProblem?: string },
): PlannedLayer[] {
  if (!format.chart) {
    throw new ParseError(`not a usable Helm chart: ${format.chartProblem ?? "no config read"}`);
  }
  const isChart = (t: string) => t === HELM.chart || t === HELM.legacyChart;
  const charts = manifest.layers.filter((l) => isChart(l.mediaType)).length;
  const provs = manifest.layers.filter((l) => l.mediaType === HELM.provenance).length;
  if (charts !== 1) {
    throw new ParseError(
      `a Helm chart needs exactly one layer of type ${HELM.chart}; this one has ${charts}`,
      "layers",
    );
  }
  if (provs > 1) {
    throw new ParseError(
      `a Helm chart has at most one ${HELM.provenance} layer; this one has ${provs}`,
      "layers",
    );
  }
  const file = chartFileName(format.chart);
  return manifest.layers.map((descriptor): PlannedLayer => {
    if (isChart(descriptor.mediaType)) return { descriptor, action: "file", title: file };
    if (descriptor.mediaType === HELM.provenance) {
      return { descriptor, action: "file", title: `${file}.prov` };
    }
    return {
      descriptor,
      action: "skip",
      reason: `not a Helm chart or provenance layer (${descriptor.mediaType})`,
    };
  });
}
