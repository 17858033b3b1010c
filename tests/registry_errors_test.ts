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

Deno.test("a registry that refuses the tag page size is asked again without one", async () => {
  const seen: string[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    seen.push(`${url.pathname}${url.search}`);
    if (url.pathname === "/v2/") return new Response("{}");
    if (Number(url.searchParams.get("n") ?? "0") > 100) {
      return Response.json({
        errors: [{ code: "PAGINATION_NUMBER_INVALID", message: "invalid number of results" }],
      }, { status: 400 });
    }
    if (url.searchParams.get("last") === "b") return Response.json({ name: "x", tags: ["c"] });
    return Response.json({ name: "x", tags: ["b", "a"] }, {
      headers: { Link: '</v2/x/tags/list?n=100&last=b>; rel="next"' },
    });
  });
  const client = new RegistryClient(`127.0.0.1:${server.addr.port}`);
  const target = new RegistryTarget(client, "x", { locations: null });
  assert.deepEqual(await target.listTags(), ["a", "b", "c"]);
  assert.deepEqual(seen.filter((s) => s.includes("tags")), [
    "/v2/x/tags/list?n=1000",
    "/v2/x/tags/list",
    "/v2/x/tags/list?n=100&last=b",
  ]);
  client.close();
});
