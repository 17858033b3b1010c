/**
 * A tree changing between the walk and the read of a push: a listed file
 * swapped for a link to a file outside the tree, of the same size, must not be
 * packed with the outside file's bytes.
 */
import assert from "node:assert/strict";
import { collectTree } from "../src/archive/walk.ts";
import { packTar } from "../src/archive/tar_pack.ts";
import { ArtifactError } from "../src/errors.ts";

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** A tree with `name` of `size` bytes, and a secret outside it of the same size. */
async function treeAndSecret(size: number) {
  const root = await Deno.makeTempDir();
  const tree = `${root}/tree`;
  await Deno.mkdir(tree);
  const inside = new Uint8Array(size).fill(0x61);
  const secret = new Uint8Array(size).fill(0x53);
  secret.set(new TextEncoder().encode("SECRET-OUTSIDE-THE-TREE"), 0);
  await Deno.writeFile(`${tree}/data.bin`, inside);
  await Deno.writeFile(`${root}/secret.bin`, secret);
  return { root, tree, secret };
}

for (const [label, size] of [["small", 100], ["large", 300 * 1024]] as const) {
  Deno.test(`push refuses a ${label} file swapped for a link to an outside file after the walk`, async () => {
    const { root, tree } = await treeAndSecret(size);
    const entries = collectTree([tree]);
    await Deno.remove(`${tree}/data.bin`);
    await Deno.symlink(`${root}/secret.bin`, `${tree}/data.bin`);
    let packed: Uint8Array | undefined;
    await assert.rejects(
      async () => {
        packed = await drain(packTar(entries));
      },
      (e: unknown) =>
        e instanceof ArtifactError && e.message.includes(`${tree}/data.bin`) &&
        /replaced/.test(e.message),
    );
    assert.equal(packed, undefined);
    await Deno.remove(root, { recursive: true });
  });

  Deno.test(`push refuses a ${label} file replaced by another file of the same size after the walk`, async () => {
    const { root, tree } = await treeAndSecret(size);
    const entries = collectTree([tree]);
    await Deno.rename(`${root}/secret.bin`, `${tree}/data.bin`);
    await assert.rejects(() => drain(packTar(entries)), /replaced while it was being pushed/);
    await Deno.remove(root, { recursive: true });
  });
}

Deno.test("push packs a file whose content changed in place but kept its size and inode", async () => {
  // Same inode: the bytes are the tree's own, so packing them is not a leak.
  const { root, tree } = await treeAndSecret(100);
  const entries = collectTree([tree]);
  await Deno.writeFile(`${tree}/data.bin`, new Uint8Array(100).fill(0x62));
  const tar = await drain(packTar(entries));
  assert.ok(contains(tar, new Uint8Array(100).fill(0x62)));
  await Deno.remove(root, { recursive: true });
});
