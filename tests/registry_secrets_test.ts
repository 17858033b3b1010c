import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

Deno.test("a malformed token from the token service is refused without being shown, even with --debug", async () => {
  await using dir = await tempDir();
  const SECRET = "tok-Secret-Part-3b7e";
  let tokenRequests = 0;
  let authorised = 0;
  // A registry and its token service that hands out a token no header can carry.
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/token") {
      tokenRequests++;
      return Response.json({ token: `${SECRET}\nInjected: header`, expires_in: 300 });
    }
    if (request.headers.has("authorization")) authorised++;
    return new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', {
      status: 401,
      headers: {
        "WWW-Authenticate": `Bearer realm="http://${url.host}/token",service="stub"`,
        "Content-Type": "application/json",
      },
    });
  });
  const result = await runCli(
    ["pull", `127.0.0.1:${server.addr.port}/team/app:v1`, "-o", join(dir.path, "out"), "--debug"],
    {
      env: {
        HOME: dir.path,
        DOCKER_CONFIG: join(dir.path, ".docker"),
        ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
        REGISTRY_AUTH_FILE: join(dir.path, "none.json"),
      },
    },
  );
  assert.equal(result.code, 4, result.stderr);
  assert.match(
    result.stderr,
    /^error: token service for 127\.0\.0\.1:\d+ sent a malformed token$/m,
  );
  assert.ok(!`${result.stdout}${result.stderr}`.includes(SECRET), result.stderr);
  assert.equal(tokenRequests, 1, "not retried");
  assert.equal(authorised, 0);
});
