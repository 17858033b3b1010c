/**
 * Running one measured command: wall time from this process, peak RSS and
 * CPU time from GNU time (`/usr/bin/time -f "%M %U %S"`: the largest resident
 * set of the command or of any process it waited for, e.g. the biggest stage
 * of a shell pipeline, and the CPU time of all of them).
 *
 * @module
 */

/** One measured run. */
export interface Sample {
  /** Wall-clock seconds. */
  wall: number;
  /** Peak resident set in KiB. */
  rssKiB: number;
  /** CPU seconds (user + system) of the command and everything it waited for. */
  cpu: number;
  stdout: string;
}

/** Run `cmd args...` under /usr/bin/time; throws with its stderr when it fails. */
export async function measure(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Sample> {
  const timeFile = await Deno.makeTempFile({ prefix: "artifact-cli-bench-time-" });
  try {
    const start = performance.now();
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M %U %S", "-o", timeFile, cmd, ...args],
      cwd: options.cwd,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const wall = (performance.now() - start) / 1000;
    const decoder = new TextDecoder();
    if (!out.success) {
      throw new Error(
        `${cmd} ${args.join(" ")} failed (${out.code}):\n${
          decoder.decode(out.stderr).slice(-2000)
        }`,
      );
    }
    const [rss, user, system] = (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1)!
      .split(" ").map(Number);
    return { wall, rssKiB: rss, cpu: user + system, stdout: decoder.decode(out.stdout) };
  } finally {
    await Deno.remove(timeFile).catch(() => {});
  }
}

/** Run `bash -c script` measured (for pipelines). */
export function measureShell(script: string, env: Record<string, string> = {}): Promise<Sample> {
  return measure("bash", ["-c", `set -euo pipefail\n${script}`], { env });
}

/**
 * Run each named job `runs` times, interleaved and rotated (a b c, b c a,
 * c a b, ...), so that background noise and whatever a previous command left
 * behind (dirty pages, freed inodes) hit every job alike. `prepare` runs
 * untimed before each round, `cleanup` after it.
 */
export async function interleave<K extends string>(
  runs: number,
  jobs: Record<K, (round: number) => Promise<Sample>>,
  hooks: {
    prepare?: (round: number) => Promise<void>;
    cleanup?: (round: number) => Promise<void>;
  } = {},
): Promise<Record<K, Sample[]>> {
  const results = {} as Record<K, Sample[]>;
  for (const key of Object.keys(jobs) as K[]) results[key] = [];
  for (let round = 0; round < runs; round++) {
    await hooks.prepare?.(round);
    try {
      const keys = Object.keys(jobs) as K[];
      for (let i = 0; i < keys.length; i++) {
        const key = keys[(i + round) % keys.length];
        results[key].push(await jobs[key](round));
      }
    } finally {
      await hooks.cleanup?.(round);
    }
  }
  return results;
}

/** Median wall time of samples. */
export function medianWall(samples: Sample[]): number {
  const walls = samples.map((s) => s.wall).sort((a, b) => a - b);
  const mid = Math.floor(walls.length / 2);
  return walls.length % 2 ? walls[mid] : (walls[mid - 1] + walls[mid]) / 2;
}

/** Median CPU seconds of samples. */
export function medianCpu(samples: Sample[]): number {
  const cpus = samples.map((s) => s.cpu).sort((a, b) => a - b);
  const mid = Math.floor(cpus.length / 2);
  return cpus.length % 2 ? cpus[mid] : (cpus[mid - 1] + cpus[mid]) / 2;
}

/** Highest peak RSS of samples, in MiB. */
export function peakRssMiB(samples: Sample[]): number {
  return Math.max(...samples.map((s) => s.rssKiB)) / 1024;
}

/** Flush dirty pages so one run's writes do not slow the next one down. */
export async function settleDisk(): Promise<void> {
  await new Deno.Command("sync").output();
}
