/**
 * Only http: and https: URLs are ever requested. A fake registry on loopback
 * names file:, data: and other URLs in every place a registry can: manifest
 * and blob redirects, the token realm, the tag list's Link header and the
 * upload Location. Each is refused in one line naming the registry, and
 * nothing local is read (a realm of file:///dev/zero would take all memory).
 * A TLS registry whose port also answers plain HTTP is never used over HTTP.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RegistryClient } from "../src/registry/client.ts";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

const HOSTILE_URLS = [
  "file:///dev/zero",
  "file:///etc/passwd",
  "data:application/json,%7B%22token%22%3A%22x%22%7D",
  "blob:http://127.0.0.1/x",
  "ftp://127.0.0.1/x",
];

type Place = "manifest-redirect" | "blob-redirect" | "realm" | "link" | "upload-location";

/** A registry that answers just enough for one command to reach `place`, then names `url`. */
function fakeRegistry(place: Place, url: string) {
  const digest = `sha256:${"a".repeat(64)}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest, size: 2 },
    layers: [],
  });
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    const api = { "Docker-Distribution-API-Version": "registry/2.0" };
    if (path === "/v2/") {
      return place === "realm"
        ? new Response("{}", {
          status: 401,
          headers: { ...api, "WWW-Authenticate": `Bearer realm="${url}",service="x"` },
        })
        : new Response("{}", { headers: api });
    }
    if (place === "link" && path.endsWith("/tags/list")) {
      return Response.json({ name: "team/app", tags: ["v1"] }, {
        headers: { ...api, Link: `<${url}>; rel="next"` },
      });
    }
    if (place === "manifest-redirect" && path.includes("/manifests/")) {
      return new Response(null, { status: 307, headers: { ...api, Location: url } });
    }
    if (path.includes("/manifests/")) {
      return new Response(manifest, {
        headers: { ...api, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      });
    }
    if (place === "blob-redirect" && path.includes("/blobs/")) {
      return new Response(null, { status: 307, headers: { ...api, Location: url } });
    }
    if (place === "upload-location" && path.endsWith("/blobs/uploads/")) {
      return new Response(null, { status: 202, headers: { ...api, Location: url } });
    }
    if (req.method === "HEAD") return new Response(null, { status: 404, headers: api });
    return new Response("{}", { status: 404, headers: api });
  });
}

const commandFor = (place: Place, host: string, dir: string): string[] => {
  const ref = `${host}/team/app:v1`;
  if (place === "link") return ["tags", `${host}/team/app`];
  if (place === "upload-location") return ["push", ref, join(dir, "src")];
  return ["pull", ref, "-o", join(dir, "out")];
};

for (
  const place of ["manifest-redirect", "blob-redirect", "realm", "link", "upload-location"] as const
) {
  for (const url of HOSTILE_URLS) {
    Deno.test(`a ${url.split(":")[0]}: URL as the ${place} is refused in one line naming the registry`, async () => {
      await using dir = await tempDir();
      await makeSampleTree(join(dir.path, "src"));
      await using server = fakeRegistry(place, url);
      const host = `127.0.0.1:${server.addr.port}`;
      const result = await runCli(commandFor(place, host, dir.path), {
        env: isolatedEnv(dir.path, { ARTIFACT_CLI_RETRY_BASE_MS: "1" }),
      });
      if (place === "link" && url.startsWith("data:")) {
        // A data: URL holds a comma, so the Link header parses as no next page at all.
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), "v1");
        return;
      }
      assert.notEqual(result.code, 0, result.stderr);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${server.addr.port}`));
      assert.match(result.stderr, /only http: and https: URLs are followed|invalid URL/);
      assert.ok(!result.stderr.includes("root:"), "nothing of /etc/passwd shows");
    });
  }
}

Deno.test("a TLS registry with an untrusted certificate whose port also answers plain HTTP is never used over HTTP", async () => {
  const seen: { url: string; authorization: string | null }[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    seen.push({ url: url.href, authorization: new Headers(init?.headers).get("authorization") });
    if (url.protocol === "https:") {
      return Promise.reject(new TypeError("invalid peer certificate: UnknownIssuer"));
    }
    return Promise.resolve(
      new Response("{}", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="r"' } }),
    );
  }) as typeof fetch;
  try {
    const client = new RegistryClient("127.0.0.1:5999", {
      credentials: { username: "u", password: "s3cret" },
    });
    await assert.rejects(client.base(), /cannot verify the TLS certificate/);
    assert.ok(seen.every((s) => s.authorization === null), "no credentials sent anywhere");
  } finally {
    globalThis.fetch = original;
  }
});
