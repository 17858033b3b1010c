import assert from "node:assert/strict";
import { join } from "node:path";
import { IntegrityError } from "../src/errors.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { fileSource } from "../src/target.ts";
import { tempDir } from "./support/tree.ts";

Deno.test("a layout takes over a verified staged file without copying it; others are re-hashed", async () => {
  await using dir = await tempDir();
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const staged = join(dir.path, "staged");
  const bytes = new TextEncoder().encode("layer bytes");
  await Deno.writeFile(staged, bytes);
  const descriptor = {
    mediaType: "application/octet-stream",
    digest: sha256Digest(bytes),
    size: 11,
  };

  await layout.pushBlob(descriptor, fileSource(staged, 11, { verified: true }));
  const blob = layout.blobPath(descriptor.digest);
  assert.deepEqual(await Deno.readFile(blob), bytes);
  assert.equal((await Deno.stat(blob)).ino, (await Deno.stat(staged)).ino); // a hard link
  assert.equal((await Deno.stat(blob)).mode! & 0o777, 0o644);

  // A user's file (not verified) that does not match its descriptor is refused.
  const lying = join(dir.path, "lying");
  await Deno.writeTextFile(lying, "other bytes");
  const wanted = { ...descriptor, digest: sha256Digest(new TextEncoder().encode("x".repeat(11))) };
  await assert.rejects(() => layout.pushBlob(wanted, fileSource(lying, 11)), IntegrityError);
  assert.equal(await layout.exists(wanted), false);
  // A verified file of the wrong size is refused too.
  const short = { ...wanted, size: 12 };
  await assert.rejects(
    () => layout.pushBlob(short, fileSource(lying, 12, { verified: true })),
    IntegrityError,
  );
  assert.deepEqual(
    [...Deno.readDirSync(join(dir.path, "store", "blobs", "sha256"))].map((e) => e.name),
    [descriptor.digest.slice(7)],
  );
});
