/**
 * Our gzip layers are one member of independent 1 MiB deflate blocks, some of
 * them stored (incompressible data), written by workers in any order. Every
 * gzip reader installable here must restore them byte for byte: GNU gzip,
 * Python's gzip module, Go's (umoci unpacks the layer), node:zlib and the
 * web DecompressionStream. Each is checked against the layer's diff_id (the
 * digest of the tar), and umoci's tree against the source tree.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { parseImageConfig, parseImageManifest } from "../src/oci/parse.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { readAll } from "../src/target.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const MiB = 1024 * 1024;

/** Half random (stored blocks), half text (deflated), over several 1 MiB blocks. */
async function makeMixedTree(root: string): Promise<string> {
  await Deno.mkdir(join(root, "random"), { recursive: true });
  await Deno.mkdir(join(root, "text", "nested"), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const bytes = new Uint8Array(MiB + 4321 * i);
    for (let o = 0; o < bytes.byteLength; o += 65536) {
      crypto.getRandomValues(bytes.subarray(o, Math.min(o + 65536, bytes.byteLength)));
    }
    await Deno.writeFile(join(root, "random", `r${i}.bin`), bytes);
  }
  const line = "workshop content for educates, lorem ipsum dolor sit amet\n";
  for (let i = 0; i < 5; i++) {
    await Deno.writeTextFile(
      join(root, "text", "nested", `t${i}.txt`),
      line.repeat(9000 + 777 * i),
    );
  }
  await Deno.writeTextFile(join(root, "README.md"), "# hello\n");
  return root;
}

/** Run a command with `input` on stdin; its stdout. */
async function pipeThrough(cmd: string, args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  const [out] = await Promise.all([
    child.output(),
    writer.write(input).then(() => writer.close()),
  ]);
  assert.equal(out.code, 0, `${cmd}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

for (const level of [1, 6]) {
  Deno.test(`gzip -${level} layers: GNU gzip, Python, Go (umoci), node:zlib and DecompressionStream restore them`, async () => {
    await using dir = await tempDir();
    const src = await makeMixedTree(join(dir.path, "src"));
    const store = join(dir.path, "store");
    const layout = await OciLayout.open(store, { create: true });
    const result = await pushTree(layout, {
      inputs: [src],
      tag: "v1",
      level,
      compressionWorkers: 2,
    });
    const manifest = parseImageManifest(
      await Deno.readFile(layout.blobPath(result.descriptor.digest)),
    );
    const config = parseImageConfig(await Deno.readFile(layout.blobPath(manifest.config.digest)));
    const diffId = config.rootfs.diff_ids[0];
    const layer = await Deno.readFile(layout.blobPath(manifest.layers[0].digest));
    assert.ok(layer.byteLength > 3 * MiB, "several blocks, the random ones stored");

    assert.equal(sha256Digest(await pipeThrough("gzip", ["-dc"], layer)), diffId, "GNU gzip");
    const python =
      "import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))";
    assert.equal(
      sha256Digest(await pipeThrough("python3", ["-c", python], layer)),
      diffId,
      "Python",
    );
    assert.equal(sha256Digest(zlib.gunzipSync(layer)), diffId, "node:zlib");
    const web = await readAll(
      ReadableStream.from([layer]).pipeThrough(
        new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
      ),
    );
    assert.equal(sha256Digest(web), diffId, "DecompressionStream");

    // umoci (Go) checks the diff_id itself while it unpacks; `raw unpack` makes only the
    // root filesystem (no runtime config, which needs an OS our artifacts do not name).
    const rootfs = join(dir.path, "rootfs");
    const unpack = await new Deno.Command("umoci", {
      args: [
        "raw",
        "unpack",
        ...(Deno.uid() === 0 ? [] : ["--rootless"]),
        "--image",
        `${store}:v1`,
        rootfs,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(unpack.code, 0, new TextDecoder().decode(unpack.stderr));
    assert.deepEqual(describeTree(rootfs), describeTree(src));
  });
}
