/**
 * Test support: building sample trees on disk and describing trees so two
 * can be compared exactly (type, mode, content, link target).
 */

import { join } from "node:path";

/** The fixture README's sample tree exactly (no symlink, no empty dir). */
export async function makeFixtureSampleTree(root: string): Promise<string> {
  await Deno.mkdir(join(root, "sub", "deeper"), { recursive: true });
  await Deno.writeTextFile(join(root, "data.json"), '{"a":1,"b":[1,2,3]}\n');
  await Deno.writeTextFile(join(root, "empty.txt"), "");
  await Deno.writeTextFile(join(root, "hello.txt"), "hello world\n");
  await Deno.writeTextFile(join(root, "run.sh"), "#!/bin/sh\necho hi\n");
  await Deno.chmod(join(root, "run.sh"), 0o755);
  await Deno.writeTextFile(join(root, "sub", "nested.txt"), "nested file\n");
  await Deno.writeTextFile(join(root, "sub", "deeper", "deep.txt"), "deep\n");
  return root;
}

/** The fixture sample tree plus a symlink (as buildah saw it) and an empty directory. */
export async function makeSampleTree(root: string): Promise<string> {
  await makeFixtureSampleTree(root);
  await Deno.mkdir(join(root, "empty-dir"));
  await Deno.symlink("hello.txt", join(root, "link-to-hello"));
  return root;
}

/**
 * A sorted description of every entry under `root`:
 * `path type mode [content|-> target]`, for exact comparisons.
 */
export function describeTree(root: string, options: { modes?: boolean } = {}): string[] {
  const lines: string[] = [];
  const walk = (rel: string) => {
    const abs = rel ? join(root, rel) : root;
    for (const entry of [...Deno.readDirSync(abs)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const full = join(root, path);
      const info = Deno.lstatSync(full);
      const mode = options.modes === false ? "" : ` ${(info.mode! & 0o7777).toString(8)}`;
      if (info.isSymlink) {
        lines.push(`${path} symlink -> ${Deno.readLinkSync(full)}`);
      } else if (info.isDirectory) {
        lines.push(`${path} dir${mode}`);
        walk(path);
      } else {
        lines.push(`${path} file${mode} ${JSON.stringify(Deno.readTextFileSync(full))}`);
      }
    }
  };
  walk("");
  return lines;
}

/** A fresh temporary directory removed when the returned disposable is disposed. */
export async function tempDir(
  prefix = "artifact-cli-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
