/**
 * Where credentials may go, for hosts the tests cannot reach for real
 * (non-loopback names): the decision functions, the Authorizer with an
 * injected fetch, and the RegistryClient with the global fetch replaced by a
 * recorder. Nothing here opens a socket.
 */

import assert from "node:assert/strict";
import { AuthError } from "../src/errors.ts";
import { Authorizer } from "../src/registry/auth.ts";
import { RegistryClient } from "../src/registry/client.ts";
import {
  isLoopbackHost,
  mayAttachCredentials,
  maySendSecret,
} from "../src/registry/credential_policy.ts";
import type { Credential } from "../src/registry/credentials.ts";
import type { RetryPolicy } from "../src/registry/retry.ts";

const BASIC = `Basic ${btoa("u:s3cret")}`;
const credential: Credential = { username: "u", password: "s3cret", source: "test" };
const noWait: RetryPolicy = {
  attempts: 2,
  baseMs: 0,
  maxWaitMs: 0,
  sleep: () => Promise.resolve(),
  random: () => 0,
  idleMs: 30_000,
};

interface Seen {
  url: string;
  authorization: string | null;
}

/**
 * Run `body` with the global fetch answering from `handler` and recording
 * every request (URL and Authorization header).
 */
async function withFetch(
  handler: (url: URL) => Response,
  body: (seen: Seen[]) => Promise<void>,
): Promise<Seen[]> {
  const seen: Seen[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    seen.push({ url: url.href, authorization: new Headers(init?.headers).get("authorization") });
    return Promise.resolve(handler(url));
  }) as typeof fetch;
  try {
    await body(seen);
  } finally {
    globalThis.fetch = original;
  }
  return seen;
}

const basicChallenge = () =>
  new Response("{}", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="r"' } });

Deno.test("credential policy: loopback hosts, same-origin attachment, clear text only to loopback or with --plain-http", () => {
  for (const host of ["localhost", "localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (
    const host of ["registry.example.com", "10.0.0.1:5000", "127.example.com", "localhost.evil"]
  ) {
    assert.ok(!isLoopbackHost(host), host);
  }
  const base = "https://registry.example.com";
  assert.ok(mayAttachCredentials("https://registry.example.com/v2/x", base));
  assert.ok(!mayAttachCredentials("http://registry.example.com/v2/x", base), "https -> http");
  assert.ok(!mayAttachCredentials("https://registry.example.com:8443/v2/x", base), "other port");
  assert.ok(!mayAttachCredentials("https://cdn.example.com/blob", base), "other host");
  assert.ok(!mayAttachCredentials("http://127.0.0.1:5001/x", "http://127.0.0.1:5000"));

  assert.ok(maySendSecret("https://auth.example.com/token", false));
  assert.ok(maySendSecret("http://127.0.0.1:5000/v2/", false));
  assert.ok(maySendSecret("http://localhost/token", false));
  assert.ok(maySendSecret("http://[::1]:5000/token", false));
  assert.ok(!maySendSecret("http://auth.example.com/token", false));
  assert.ok(!maySendSecret("http://10.0.0.1:5000/v2/", false));
  assert.ok(maySendSecret("http://auth.example.com/token", true), "explicit --plain-http");
  assert.ok(!maySendSecret("ftp://auth.example.com/token", true));
});

Deno.test("Authorizer: basic credentials go over HTTPS, to loopback, or with --plain-http; never in clear text to another host", async () => {
  const auth = new Authorizer("registry.example.com", () => Promise.resolve(credential), fetch);
  auth.setChallenge({ scheme: "basic", params: { realm: "r" } });
  assert.equal(await auth.header([], "https://registry.example.com/v2/"), BASIC);
  assert.equal(await auth.header([], "http://127.0.0.1:5000/v2/"), BASIC);
  await assert.rejects(
    auth.header([], "http://registry.example.com/v2/"),
    (e) =>
      e instanceof AuthError &&
      /refusing to send credentials for registry\.example\.com over plain HTTP to http:\/\/registry\.example\.com/
        .test(e.message) &&
      !e.message.includes("s3cret"),
  );
  const explicit = new Authorizer(
    "registry.example.com",
    () => Promise.resolve(credential),
    fetch,
    { plainHttp: true },
  );
  explicit.setChallenge({ scheme: "basic", params: { realm: "r" } });
  assert.equal(await explicit.header([], "http://registry.example.com/v2/"), BASIC);
});

Deno.test("Authorizer: credentials are never sent to an http:// token realm on another host unless --plain-http", async () => {
  const asked: { url: string; authorization: string | null }[] = [];
  const fetchToken = (url: string, init: RequestInit) => {
    asked.push({ url, authorization: new Headers(init.headers).get("authorization") });
    return Promise.resolve(Response.json({ token: "tok-1", expires_in: 300 }));
  };
  const bearer = (realm: string, options = {}, cred: Credential | null = credential) => {
    const auth = new Authorizer(
      "registry.example.com",
      () => Promise.resolve(cred ?? undefined),
      fetchToken,
      options,
    );
    auth.setChallenge({ scheme: "bearer", params: { realm, service: "svc" } });
    return auth;
  };
  const url = "https://registry.example.com/v2/a/manifests/v1";

  await assert.rejects(
    bearer("http://auth.example.com/token").header(["repository:a:pull"], url),
    (e) =>
      e instanceof AuthError &&
      /refusing to send credentials for registry\.example\.com to its token service over plain HTTP to http:\/\/auth\.example\.com/
        .test(e.message),
  );
  const identity = { identityToken: "refresh-secret", source: "test" };
  await assert.rejects(
    bearer("http://auth.example.com/token", {}, identity).header([], url),
    AuthError,
  );
  assert.equal(asked.length, 0, "nothing was sent");

  assert.equal(await bearer("https://auth.example.com/token").header([], url), "Bearer tok-1");
  assert.equal(await bearer("http://127.0.0.1:9/token").header([], url), "Bearer tok-1");
  assert.equal(
    await bearer("http://auth.example.com/token", { plainHttp: true }).header([], url),
    "Bearer tok-1",
  );
  // Anonymous token requests carry no secret, so an http:// realm is fine.
  assert.equal(
    await bearer("http://auth.example.com/token", {}, null).header([], url),
    "Bearer tok-1",
  );
  assert.deepEqual(asked.map((a) => [new URL(a.url).origin, a.authorization]), [
    ["https://auth.example.com", BASIC],
    ["http://127.0.0.1:9", BASIC],
    ["http://auth.example.com", BASIC],
    ["http://auth.example.com", null],
  ]);
});

Deno.test("RegistryClient, non-loopback host: HTTPS only by default, and a redirect down to http:// on the same host gets no Authorization", async () => {
  const seen = await withFetch((url) => {
    if (url.pathname === "/v2/") return basicChallenge();
    if (url.protocol === "https:") {
      return new Response(null, {
        status: 307,
        headers: { Location: `http://registry.example.com${url.pathname}` },
      });
    }
    return new Response("blob");
  }, async () => {
    const client = new RegistryClient("registry.example.com", {
      credentials: { username: "u", password: "s3cret" },
      retry: noWait,
    });
    const response = await client.send({ method: "GET", url: "/v2/a/blobs/sha256:x", scopes: [] });
    assert.equal(await response.text(), "blob");
  });
  assert.deepEqual(seen, [
    { url: "https://registry.example.com/v2/", authorization: null },
    { url: "https://registry.example.com/v2/a/blobs/sha256:x", authorization: BASIC },
    { url: "http://registry.example.com/v2/a/blobs/sha256:x", authorization: null },
  ]);
});

Deno.test("RegistryClient, non-loopback host: basic auth over plain HTTP only with --plain-http; an http:// token realm is refused before anything is sent", async () => {
  const plain = await withFetch(
    (url) => url.pathname === "/v2/" ? basicChallenge() : new Response("ok"),
    async () => {
      const client = new RegistryClient("registry.example.com", {
        plainHttp: true,
        credentials: { username: "u", password: "s3cret" },
        retry: noWait,
      });
      const response = await client.send({ method: "GET", url: "/v2/a/tags/list", scopes: [] });
      await response.body?.cancel();
    },
  );
  assert.deepEqual(plain.map((s) => [s.url, s.authorization]), [
    ["http://registry.example.com/v2/", null],
    ["http://registry.example.com/v2/a/tags/list", BASIC],
  ]);

  const refused = await withFetch(
    (url) =>
      url.pathname === "/v2/"
        ? new Response("{}", {
          status: 401,
          headers: { "WWW-Authenticate": 'Bearer realm="http://auth.example.com/token"' },
        })
        : Response.json({ token: "t" }),
    async () => {
      const client = new RegistryClient("registry.example.com", {
        credentials: { username: "u", password: "s3cret" },
        retry: noWait,
      });
      await assert.rejects(
        client.send({ method: "GET", url: "/v2/a/manifests/v1", scopes: ["repository:a:pull"] }),
        (e) => e instanceof AuthError && e.exitCode === 4 && /--plain-http/.test(e.message),
      );
    },
  );
  assert.deepEqual(refused.map((s) => s.url), ["https://registry.example.com/v2/"]);
});
