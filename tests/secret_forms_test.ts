/**
 * A registry that echoes the password back in its error messages, in every
 * form a secret travels in (raw with a tab, URL-encoded, form-encoded,
 * base64 of user:password with and without padding): none of them shows in
 * any output, with or without --debug. Error bodies are read only up to a
 * bound, so a flood (gzip-inflated or not) does not take memory.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { constants, createGzip } from "node:zlib";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

const USER = "alice";
const PASSWORDS = ["pa\tss w+rd/&=é!", "tab\there-and\nnewline", "plain-Secret-77"];

function forms(password: string): string[] {
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(`${USER}:${password}`)));
  const raw = btoa(String.fromCharCode(...new TextEncoder().encode(password)));
  return [
    password,
    encodeURIComponent(password),
    new URLSearchParams({ s: password }).toString().slice(2),
    b64,
    b64.replace(/=+$/, ""),
    raw.replace(/=+$/, ""),
  ];
}

for (const password of PASSWORDS) {
  Deno.test(`a registry echoing the password ${JSON.stringify(password)} in every form: none shows, even with --debug`, async () => {
    await using dir = await tempDir();
    const echoed = forms(password);
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => {
        const api = { "Docker-Distribution-API-Version": "registry/2.0" };
        if (!req.headers.get("authorization")) {
          return new Response("{}", {
            status: 401,
            headers: { ...api, "WWW-Authenticate": 'Basic realm="r"' },
          });
        }
        const message = echoed.map((f, i) => `form${i}=${f}`).join(" ");
        return Response.json({ errors: [{ code: "UNSUPPORTED", message }] }, {
          status: 400,
          headers: api,
        });
      },
    );
    const host = `127.0.0.1:${server.addr.port}`;
    for (const debug of [[], ["--debug"]]) {
      const result = await runCli([
        "pull",
        `${host}/team/app:v1`,
        "-o",
        join(dir.path, "o"),
        "-u",
        USER,
        ...debug,
      ], {
        env: isolatedEnv(dir.path, {
          ARTIFACT_CLI_PASSWORD: password,
          ARTIFACT_CLI_RETRY_BASE_MS: "1",
        }),
      });
      assert.notEqual(result.code, 0);
      const all = result.stdout + result.stderr;
      for (const form of echoed) {
        assert.ok(!all.includes(form), `${JSON.stringify(form)} shows: ${all}`);
      }
      // The password's pieces around the tab do not show either.
      for (const piece of password.split(/[\t\n]/).filter((p) => p.length >= 4)) {
        assert.ok(!all.includes(piece) || piece === USER, `${piece} shows: ${all}`);
      }
      assert.match(all, /form0=\[REDACTED\]/);
    }
  });
}

/** One gzip member of `count` × 4 MiB of zeros, cut at sync flushes into wire chunks. */
async function gzipChunks(count: number): Promise<Uint8Array[]> {
  const gzip = createGzip({ level: 1 });
  const chunks: Uint8Array[] = [];
  gzip.on("data", (c: Uint8Array) => chunks.push(c));
  const zeros = new Uint8Array(4 << 20);
  for (let i = 0; i < count; i++) {
    gzip.write(zeros);
    await new Promise<void>((resolve) => gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  }
  await new Promise<void>((resolve) => gzip.end(() => resolve()));
  return chunks;
}

Deno.test("an error answer of 800 MiB decoded (one gzip member on the wire) is read only up to its bound", async () => {
  await using dir = await tempDir();
  const chunks = await gzipChunks(200);
  let served = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const api = { "Docker-Distribution-API-Version": "registry/2.0" };
    if (new URL(req.url).pathname === "/v2/") return new Response("{}", { headers: api });
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i >= chunks.length) return controller.close();
        await new Promise((r) => setTimeout(r, 5)); // slow enough that reading on shows
        served++;
        controller.enqueue(chunks[i++]);
      },
    });
    return new Response(body, {
      status: 400,
      headers: { ...api, "Content-Encoding": "gzip", "Content-Type": "application/json" },
    });
  });
  const result = await runCli(
    ["tags", `127.0.0.1:${server.addr.port}/team/app`],
    { env: isolatedEnv(dir.path, { ARTIFACT_CLI_RETRY_BASE_MS: "1" }) },
  );
  assert.notEqual(result.code, 0);
  assert.equal(result.stderr.trim().split("\n").length, 1);
  // Not retried (400); reading stopped at the bound, long before the 200 chunks (×2 requests).
  assert.ok(served < 100, `served ${served} of ${chunks.length * 2} chunks`);
});
