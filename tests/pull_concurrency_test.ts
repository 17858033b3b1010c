import assert from "node:assert/strict";
import { join } from "node:path";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { IntegrityError } from "../src/errors.ts";
import { sha256Digest, verifyStream } from "../src/oci/digest.ts";
import { OCI } from "../src/oci/media_types.ts";
import type { Descriptor } from "../src/oci/types.ts";
import { pull } from "../src/pull/pull.ts";
import { imageConfig, imageManifest } from "../src/push/image.ts";
import { bytesSource, readAll, type Target } from "../src/target.ts";
import { buildTarGz, type RawEntry } from "./support/tar_builder.ts";
import { describeTree, tempDir } from "./support/tree.ts";

/** A three-layer image (with whiteouts) in a layout; returns the layout. */
async function threeLayerImage(dir: string): Promise<OciLayout> {
  const layout = await OciLayout.open(dir, { create: true });
  const layers: RawEntry[][] = [
    [{ name: "a.txt", content: "a1" }, { name: "keep.txt", content: "k" }, {
      name: "big.bin",
      content: new Uint8Array(300_000).fill(7),
    }],
    [{ name: "a.txt", content: "a2" }, { name: ".wh.keep.txt", content: "" }],
    [{ name: "b/c.txt", content: "c" }],
  ];
  const descriptors: Descriptor[] = [];
  for (const entries of layers) {
    const blob = buildTarGz(entries);
    const descriptor = {
      mediaType: OCI.layerTarGzip,
      digest: sha256Digest(blob),
      size: blob.length,
    };
    await layout.pushBlob(descriptor, bytesSource(blob));
    descriptors.push(descriptor);
  }
  const config = imageConfig(descriptors.map((d) => d.digest));
  await layout.pushBlob(config.descriptor, bytesSource(config.bytes));
  const manifest = imageManifest(config.descriptor, descriptors);
  await layout.pushManifest(manifest.descriptor, manifest.bytes, "v1");
  return layout;
}

/** The layout seen as a remote target, recording how many blob reads overlap. */
function remote(layout: OciLayout, corrupt?: string) {
  let open = 0;
  const stats = { peak: 0, fetched: [] as string[] };
  const target: Target = {
    name: "remote",
    resolve: (ref) => layout.resolve(ref),
    fetchManifest: (d) => layout.fetchManifest(d),
    exists: (d) => layout.exists(d),
    pushBlob: (d, s) => layout.pushBlob(d, s),
    pushManifest: (d, b, t) => layout.pushManifest(d, b, t),
    tag: (d, t) => layout.tag(d, t),
    listTags: () => layout.listTags(),
    async fetchBlob(descriptor) {
      stats.fetched.push(descriptor.digest);
      open++;
      stats.peak = Math.max(stats.peak, open);
      let stream = await layout.fetchBlob(descriptor);
      if (descriptor.digest === corrupt) {
        // Flip a byte in transit; the verifying wrapper must catch it.
        const bytes = await readAll(stream);
        bytes[bytes.byteLength >> 1] ^= 0xff;
        stream = verifyStream(ReadableStream.from([bytes]), descriptor.digest, descriptor.size);
      }
      // Count the read as open until the stream ends.
      return stream.pipeThrough(
        new TransformStream({ flush: () => void open-- }),
      );
    },
  };
  return { target, stats };
}

Deno.test("later layers download while the first is extracted; the result is the same", async () => {
  await using dir = await tempDir();
  const layout = await threeLayerImage(join(dir.path, "store"));
  const direct = join(dir.path, "direct");
  await pull(layout, { tagOrDigest: "v1", output: direct });

  const { target, stats } = remote(layout);
  const prefetched = join(dir.path, "prefetched");
  await pull(target, { tagOrDigest: "v1", output: prefetched, concurrency: 3 });
  assert.deepEqual(describeTree(prefetched), describeTree(direct));
  assert.deepEqual(describeTree(direct), [
    'a.txt file 644 "a2"',
    "b dir 755",
    'b/c.txt file 644 "c"',
    `big.bin file 644 ${JSON.stringify("\x07".repeat(300_000))}`,
  ]);
  // Each layer is read once (the config is read too, to detect the format).
  const manifest = JSON.parse(
    new TextDecoder().decode(await layout.fetchManifest(await layout.resolve("v1"))),
  );
  const layerDigests: string[] = manifest.layers.map((l: { digest: string }) => l.digest);
  assert.deepEqual(
    stats.fetched.filter((d) => layerDigests.includes(d)).sort(),
    layerDigests.sort(),
  );
  assert.ok(stats.peak >= 2, `reads overlapped: ${stats.peak}`);

  const serial = remote(layout);
  await pull(serial.target, {
    tagOrDigest: "v1",
    output: join(dir.path, "serial"),
    concurrency: 1,
  });
  assert.equal(serial.stats.peak, 1);
});

Deno.test("a corrupt prefetched layer fails the pull and leaves the output as it was", async () => {
  await using dir = await tempDir();
  const layout = await threeLayerImage(join(dir.path, "store"));
  const manifest = JSON.parse(
    new TextDecoder().decode(await layout.fetchManifest(await layout.resolve("v1"))),
  );
  const { target } = remote(layout, manifest.layers[2].digest);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "mine.txt"), "mine");
  await assert.rejects(
    () => pull(target, { tagOrDigest: "v1", output: out, concurrency: 4, force: true }),
    IntegrityError,
  );
  assert.deepEqual(describeTree(out), ['mine.txt file 644 "mine"']);
});

Deno.test("prefetching stages no more than --max-size allows: layers that do not fit are not fetched ahead", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const random = (n: number) => {
    const bytes = new Uint8Array(n);
    for (let o = 0; o < n; o += 65536) crypto.getRandomValues(bytes.subarray(o, o + 65536));
    return bytes;
  };
  const descriptors: Descriptor[] = [];
  for (const content of [new Uint8Array(10), random(3 << 20), random(3 << 20)]) {
    const blob = buildTarGz([{ name: `f${descriptors.length}`, content }]);
    const descriptor = {
      mediaType: OCI.layerTarGzip,
      digest: sha256Digest(blob),
      size: blob.length,
    };
    await layout.pushBlob(descriptor, bytesSource(blob));
    descriptors.push(descriptor);
  }
  const config = imageConfig(descriptors.map((d) => d.digest));
  await layout.pushBlob(config.descriptor, bytesSource(config.bytes));
  const manifest = imageManifest(config.descriptor, descriptors);
  await layout.pushManifest(manifest.descriptor, manifest.bytes, "v1");
  const { target, stats } = remote(layout);
  // 1 MiB allowed: each 3 MiB layer is over the staging budget, so none is fetched ahead.
  await assert.rejects(() =>
    pull(target, {
      tagOrDigest: "v1",
      output: join(dir.path, "out"),
      maxBytes: 1 << 20,
      concurrency: 4,
    })
  );
  assert.equal(stats.peak, 1);
  const layersFetched = stats.fetched.filter((d) => descriptors.some((l) => l.digest === d));
  assert.deepEqual(layersFetched, descriptors.slice(0, 2).map((d) => d.digest));
});
