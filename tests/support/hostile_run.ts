/**
 * Test support for the hostile-tar suite: run one hostile case through the
 * real CLI (`pull oci:...` as a subprocess, the layer stored as a blob in a
 * layout) and through GNU tar (as root and as an unprivileged user), each in
 * its own scratch parent, and report what happened — exit code, messages,
 * the extracted tree, and every change outside the extraction directory.
 */

import zlib from "node:zlib";
import { join } from "node:path";
import { runCli } from "./cli.ts";
import { MT, RawLayout } from "./layout_builder.ts";

/** What a hostile case needs to know about where it runs. */
export interface CaseContext {
  /** Absolute path of a directory outside the extraction directory (holds secret.txt). */
  outside: string;
}

/** One hostile input. */
export interface HostileCase {
  /** Short name, used in test names. */
  id: string;
  /** The layers, uncompressed tars, applied in order. */
  layers(ctx: CaseContext): Uint8Array[];
  /** Compression of the blobs stored in the layout (default gzip). */
  compression?: "gzip" | "none";
  /** Extra `pull` arguments, e.g. `--max-size`. */
  pullArgs?: string[];
}

/** What one extractor did with a case. */
export interface Outcome {
  code: number;
  stderr: string;
  /** describe() of the extraction directory afterwards. */
  tree: string[];
  /** Paths outside the extraction directory that were created, changed or removed. */
  outsideChanges: string[];
}

const SECRET = "secret\n";

/**
 * A description of every entry under `root` (type, mode, content of regular
 * files, link target), skipping the top-level names in `skip`. Never opens
 * anything but regular files, so devices and FIFOs are safe to list.
 */
export function describe(root: string, skip: string[] = []): string[] {
  const lines: string[] = [];
  const walk = (rel: string) => {
    const abs = rel ? join(root, rel) : root;
    const names = [...Deno.readDirSync(abs)].map((e) => e.name).sort();
    for (const name of names) {
      if (!rel && skip.includes(name)) continue;
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const info = Deno.lstatSync(full);
      const mode = (info.mode! & 0o7777).toString(8);
      if (info.isSymlink) lines.push(`${path} symlink -> ${Deno.readLinkSync(full)}`);
      else if (info.isDirectory) {
        lines.push(`${path} dir ${mode}`);
        walk(path);
      } else if (info.isFile) {
        const text = info.size > 200
          ? `${info.size} bytes`
          : JSON.stringify(Deno.readTextFileSync(full));
        lines.push(`${path} file ${mode} ${text}${(info.nlink ?? 1) > 1 ? " (hardlinked)" : ""}`);
      } else if (info.isFifo) lines.push(`${path} fifo ${mode}`);
      else if (info.isCharDevice) lines.push(`${path} chardev ${mode}`);
      else if (info.isBlockDevice) lines.push(`${path} blockdev ${mode}`);
      else lines.push(`${path} other ${mode}`);
    }
  };
  walk("");
  return lines;
}

function diff(before: string[], after: string[]): string[] {
  const a = new Set(before);
  const b = new Set(after);
  return [
    ...before.filter((l) => !b.has(l)).map((l) => `- ${l}`),
    ...after.filter((l) => !a.has(l)).map((l) => `+ ${l}`),
  ];
}

/** A scratch parent: `outside/secret.txt` (world-writable, so only the extractor protects it). */
async function makeParent(parent: string): Promise<CaseContext> {
  const outside = join(parent, "outside");
  await Deno.mkdir(outside, { recursive: true });
  await Deno.writeTextFile(join(outside, "secret.txt"), SECRET);
  await Deno.chmod(join(outside, "secret.txt"), 0o666);
  await Deno.chmod(outside, 0o777);
  await Deno.chmod(parent, 0o755);
  return { outside };
}

function compress(tar: Uint8Array, compression: "gzip" | "none"): Uint8Array {
  return compression === "gzip" ? new Uint8Array(zlib.gzipSync(tar)) : tar;
}

/**
 * Pull the case's layers with the CLI into `<parent>/out`, which holds one
 * file from an earlier pull, so a refused pull must leave it as it was.
 */
export async function runArtifactCli(testCase: HostileCase, parent: string): Promise<Outcome> {
  const ctx = await makeParent(parent);
  const compression = testCase.compression ?? "gzip";
  const layout = await RawLayout.create(join(parent, "store"));
  const blobs = testCase.layers(ctx).map((tar) => compress(tar, compression));
  const manifest = await layout.addImage(
    blobs,
    compression === "gzip" ? MT.layerGzip : MT.layerTar,
  );
  await layout.setIndex([{ ...manifest, tag: "v1" }]);
  const out = join(parent, "out");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "previous.txt"), "from an earlier pull\n");
  const before = describe(parent, ["out"]);
  const result = await runCli([
    "pull",
    `oci:${layout.root}:v1`,
    "-o",
    out,
    "--force", // the output stands for an earlier pull's, written here directly
    ...(testCase.pullArgs ?? []),
  ]);
  return {
    code: result.code,
    stderr: result.stderr,
    tree: describe(out),
    outsideChanges: diff(before, describe(parent, ["out"])),
  };
}

/** Extract the case's layers in order with GNU tar into `<parent>/x`, as root or as nobody. */
export async function runGnuTar(
  testCase: HostileCase,
  parent: string,
  as: "root" | "nobody",
): Promise<Outcome> {
  const ctx = await makeParent(parent);
  const dest = join(parent, "x");
  await Deno.mkdir(dest);
  const tars = testCase.layers(ctx);
  const files: string[] = [];
  for (const [i, tar] of tars.entries()) {
    const file = join(parent, `layer${i}.tar`);
    await Deno.writeFile(file, tar, { mode: 0o644 });
    files.push(file);
  }
  if (as === "nobody") await Deno.chown(dest, 65534, 65534);
  const before = describe(parent, ["x"]);
  let code = 0;
  let stderr = "";
  for (const file of files) {
    const argv = ["tar", "-xf", file, "-C", dest];
    const command = as === "root"
      ? new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "piped" })
      : new Deno.Command("setpriv", {
        args: ["--reuid=65534", "--regid=65534", "--clear-groups", ...argv],
        stdout: "null",
        stderr: "piped",
      });
    const result = await command.output();
    code = Math.max(code, result.code);
    stderr += new TextDecoder().decode(result.stderr);
  }
  return {
    code,
    stderr,
    tree: describe(dest),
    outsideChanges: diff(before, describe(parent, ["x"])),
  };
}
