/**
 * A port that answers HTTP but is not a registry (a web server, an app) is
 * named as such, instead of "manifest not found" or "answered 501 for upload".
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { makeSampleTree, tempDir } from "./support/tree.ts";

function webServer(answer: (request: Request) => Response): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, answer);
}

Deno.test("a web server that is not a registry: pull and push say so, exit 1, output untouched", async () => {
  await using dir = await tempDir();
  const env = isolatedEnv(dir.path);
  const src = await makeSampleTree(join(dir.path, "src"));
  const html = { "content-type": "text/html; charset=utf-8" };
  const servers = [
    // 404 for everything, as most web servers and dev servers answer /v2/
    [
      webServer(() => new Response("<h1>Not Found</h1>", { status: 404, headers: html })),
      "404 text/html",
    ],
    // a single-page app answering every path with its page
    [
      webServer(() => new Response("<html></html>", { status: 200, headers: html })),
      "200 text/html",
    ],
    // an API that does not implement the registry routes
    [
      webServer(() => Response.json({ error: "no route" }, { status: 501 })),
      "501 application/json",
    ],
  ] as const;
  for (const [server, gave] of servers) {
    const host = `127.0.0.1:${server.addr.port}`;
    const out = join(dir.path, "out");
    await Deno.mkdir(out, { recursive: true });
    await Deno.writeTextFile(join(out, "keep.txt"), "mine");
    const pull = await runCli(["pull", `${host}/team/app:v1`, "-o", out, "--force"], { env });
    const push = await runCli(["push", `${host}/team/app:v1`, src], { env });
    for (const result of [pull, push]) {
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr.trim(),
        `error: ${host} does not answer as an OCI registry (GET /v2/ gave ${gave})`,
      );
    }
    assert.equal(await Deno.readTextFile(join(out, "keep.txt")), "mine");
    await server.shutdown();
  }
});
