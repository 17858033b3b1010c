/**
 * What every benchmark scenario shares: options, the scratch directory, the
 * bundled CLI, and the rows of the result table.
 *
 * @module
 */

import { V8_FLAGS } from "../scripts/v8_flags.ts";
import { join } from "node:path";
import type { Dataset } from "./datasets.ts";
import { measure, type Sample, settleDisk } from "./measure.ts";
import type { Row } from "./table.ts";

/** Command-line options of the bench. */
export interface BenchOptions {
  /** Skip the 2 GiB memory check. */
  quick: boolean;
  /** Tiny data, one run: proves the harness works, measures nothing. */
  smoke: boolean;
  runs: number;
  /** gzip level of the mixed-tree pushes. */
  level: number;
  /** Compression workers of artifact-cli. */
  workers: number;
  /** Keep the scratch directory. */
  keep: boolean;
  /** Groups of rows to run (`--only`); all when unset. */
  only?: Set<string>;
  /** Where the scratch directory goes (default: the system temp directory). */
  dir?: string;
}

/** Parse `--quick --smoke --runs N --level N --workers N --keep --dir PATH`. */
export function parseOptions(args: string[]): BenchOptions {
  const options: BenchOptions = {
    quick: false,
    smoke: false,
    runs: 3,
    level: 1,
    workers: navigator.hardwareConcurrency || 1,
    keep: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const number = () => {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} needs a whole number`);
      return n;
    };
    if (arg === "--quick") options.quick = true;
    else if (arg === "--smoke") options.smoke = true;
    else if (arg === "--keep") options.keep = true;
    else if (arg === "--runs") options.runs = Math.max(1, number());
    else if (arg === "--level") options.level = number();
    else if (arg === "--workers") options.workers = number();
    else if (arg === "--dir") options.dir = args[++i];
    else if (arg === "--only") options.only = new Set((args[++i] ?? "").split(","));
    else throw new Error(`unknown option ${arg}`);
  }
  if (options.smoke) {
    options.runs = 1;
    options.quick = true;
  }
  return options;
}

/** Shared state of one bench run. */
export class BenchContext {
  readonly rows: Row[] = [];
  #counter = 0;

  private constructor(
    readonly options: BenchOptions,
    readonly root: string,
    readonly bundle: string,
  ) {}

  /** Make the scratch directory and build the bundled CLI into it. */
  static async create(options: BenchOptions): Promise<BenchContext> {
    const root = await Deno.makeTempDir({ prefix: "artifact-cli-bench-", dir: options.dir });
    await Deno.mkdir(join(root, "out"), { recursive: true });
    const bundle = join(root, "artifact-cli.js");
    const main = new URL("../main.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--output", bundle, main],
    }).output();
    if (!out.success) {
      throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new BenchContext(options, root, bundle);
  }

  /** A new path under the scratch directory. */
  fresh(name: string): string {
    return join(this.root, "out", `${name}-${++this.#counter}`);
  }

  /**
   * Run the bundled CLI (`--format json`, so stdout is the result document)
   * with an empty cache of its own: no run can mount a blob because an
   * earlier run pushed it elsewhere in the same registry.
   */
  cli(args: string[], env: Record<string, string> = {}): Promise<Sample> {
    const cache = this.fresh("cache");
    return measure(
      Deno.execPath(),
      ["run", "-A", "--quiet", V8_FLAGS, this.bundle, "--format", "json", ...args],
      { env: { ARTIFACT_CLI_CACHE_DIR: cache, ...env } },
    );
  }

  /** `push REF DIR` with gzip level and worker flags. */
  push(ref: string, data: Dataset, level: number, workers: number): Promise<Sample> {
    return this.cli([
      "push",
      ref,
      data.dir,
      "--compression-level",
      String(level),
      "--compression-workers",
      String(workers),
    ]);
  }

  /** Remove paths (emptying the list) and flush the disk before the next round. */
  async removeAll(paths: string[]): Promise<void> {
    for (const path of paths.splice(0)) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
    await settleDisk();
  }

  log(line: string): void {
    console.error(`bench: ${line}`);
  }
}

/** The first layer's digest and the blob outcomes of a push's JSON result. */
export function pushed(sample: Sample): { layer: string; blobs: string[] } {
  const result = JSON.parse(sample.stdout);
  return { layer: result.layers[0].digest, blobs: Object.values(result.blobs) as string[] };
}

/** Path of a blob in an OCI layout. */
export function blobPath(layout: string, digest: string): string {
  return join(layout, "blobs", "sha256", digest.slice("sha256:".length));
}
