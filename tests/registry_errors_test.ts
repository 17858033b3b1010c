import assert from "node:assert/strict";
import { ArtifactError, NotFoundError } from "../src/errors.ts";
import { sha256Digest } from "../src/oci/digest.ts";
import { OCI } from "../src/oci/media_types.ts";
import { RegistryClient } from "../src/registry/client.ts";
import { RegistryTarget } from "../src/registry/registry_target.ts";
import { startRegistry } from "./support/registry.ts";

Deno.test("registry error codes become errors that say what is missing", async () => {
  await using registry = await startRegistry();
  const client = new RegistryClient(registry.host);
  const target = new RegistryTarget(client, "team/errors", { write: true, locations: null });
  try {
    const missing = sha256Digest(new TextEncoder().encode("never pushed"));
    const bytes = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI.manifest,
      config: { mediaType: OCI.config, digest: missing, size: 12 },
      layers: [],
    }));
    const descriptor = { mediaType: OCI.manifest, digest: sha256Digest(bytes), size: bytes.length };
    // MANIFEST_BLOB_UNKNOWN: the message names the blob, not "manifest not found".
    await assert.rejects(
      target.pushManifest(descriptor, bytes, "v1"),
      (e) =>
        e instanceof NotFoundError &&
        e.message === `${registry.host} refused manifest v1 in ${registry.host}/team/errors: ` +
            `blob unknown to registry (${missing})`,
    );
    await assert.rejects(
      target.fetchBlob({ mediaType: OCI.layerTarGzip, digest: missing, size: 12 }),
      (e) => e instanceof NotFoundError && /^blob sha256:\w+ in .* not found$/.test(e.message),
    );
    await assert.rejects(
      target.resolve("nope"),
      (e) => e instanceof NotFoundError && /^manifest nope in .* not found$/.test(e.message),
    );
    // An upload session the registry does not know is not "not found" content.
    const lost = await client.send({
      method: "PUT",
      url: `/v2/team/errors/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=${missing}`,
      scopes: [],
    });
    await assert.rejects(
      client.failure(lost, "blob upload"),
      (e) =>
        e instanceof ArtifactError && !(e instanceof NotFoundError) &&
        /lost the upload session of blob upload: blob upload (invalid|unknown)/.test(e.message),
    );
  } finally {
    client.close();
  }
});
