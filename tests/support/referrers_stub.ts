/**
 * A registry with the OCI 1.1 Referrers API, for tests: a proxy in front of the
 * real Distribution 2.8 (which has none) that remembers every manifest PUT
 * with a `subject` and answers `GET /v2/<name>/referrers/<digest>` as the
 * distribution spec says (an image index, `artifactType` filter with
 * `OCI-Filters-Applied`, one entry per page linked with `Link` so that
 * pagination is exercised). Everything else is passed through untouched.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { freePort } from "./registry.ts";

/** A running stub. */
export interface ReferrersStub extends AsyncDisposable {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Referrers API requests answered, in order (path and query). */
  apiRequests: string[];
}

interface Entry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Start a Referrers API stub in front of the registry at `upstream` (`http://host:port`). */
export function startReferrersStub(upstream: string): ReferrersStub {
  const port = freePort();
  const referrers = new Map<string, Entry[]>();
  const apiRequests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      const api = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
      if (api && request.method === "GET") {
        apiRequests.push(url.pathname + url.search);
        const type = url.searchParams.get("artifactType");
        const all = (referrers.get(`${api[1]}@${api[2]}`) ?? []).filter((e) =>
          !type || e.artifactType === type
        );
        const start = Number(url.searchParams.get("last") ?? "0");
        const page = all.slice(start, start + 1);
        const headers = new Headers({ "content-type": "application/vnd.oci.image.index.v1+json" });
        if (type) headers.set("OCI-Filters-Applied", "artifactType");
        if (start + 1 < all.length) {
          const next = new URL(url);
          next.searchParams.set("last", String(start + 1));
          headers.set("link", `<${next.pathname}${next.search}>; rel="next"`);
        }
        const body = {
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: page,
        };
        return new Response(JSON.stringify(body), { status: 200, headers });
      }
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
      const manifest = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url.pathname);
      const response = await fetch(upstream + url.pathname + url.search, {
        method: request.method,
        headers: request.headers,
        body,
        redirect: "manual",
      });
      if (manifest && request.method === "PUT" && response.status === 201 && body) {
        const doc = JSON.parse(new TextDecoder().decode(body));
        if (doc.subject?.digest) {
          const key = `${manifest[1]}@${doc.subject.digest}`;
          const entry: Entry = {
            mediaType: doc.mediaType,
            digest: "sha256:" + createHash("sha256").update(body).digest("hex"),
            size: body.byteLength,
          };
          const artifactType = doc.artifactType ?? doc.config?.mediaType;
          if (artifactType) entry.artifactType = artifactType;
          if (doc.annotations) entry.annotations = doc.annotations;
          const list = referrers.get(key) ?? [];
          if (!list.some((e) => e.digest === entry.digest)) list.push(entry);
          referrers.set(key, list);
        }
      }
      const headers = new Headers(response.headers);
      const location = headers.get("location");
      if (location?.startsWith(upstream)) headers.set("location", location.slice(upstream.length));
      return new Response(response.body, { status: response.status, headers });
    },
  );
  return {
    host: `127.0.0.1:${port}`,
    apiRequests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
