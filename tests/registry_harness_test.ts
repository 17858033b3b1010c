import assert from "node:assert/strict";
import { startRegistry } from "./support/registry.ts";

Deno.test("the test registry starts on loopback, logs requests, and stops", async () => {
  const registry = await startRegistry();
  const res = await fetch(`${registry.url}/v2/_catalog`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { repositories: [] });
  const lines = await registry.settledRequests((l) => l.includes("GET /v2/_catalog 200"));
  assert.ok(lines.includes("GET /v2/_catalog 200"), registry.log());
  await registry.stop();
  await assert.rejects(fetch(`${registry.url}/v2/`));
});

Deno.test("the TLS registry with htpasswd asks for credentials and trusts only its CA", async () => {
  await using registry = await startRegistry({ tls: true, users: { alice: "s3cret" } });
  await assert.rejects(fetch(`${registry.url}/v2/`)); // unknown CA
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(registry.caFile!)] });
  try {
    const anonymous = await fetch(`${registry.url}/v2/`, { client });
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic realm="test-realm"/);
    const authed = await fetch(`${registry.url}/v2/`, {
      client,
      headers: { Authorization: `Basic ${btoa("alice:s3cret")}` },
    });
    await authed.body?.cancel();
    assert.equal(authed.status, 200);
  } finally {
    client.close();
  }
});
