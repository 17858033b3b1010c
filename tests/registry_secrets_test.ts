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

Deno.test("a registry that echoes credentials in its error message does not make us print them", async () => {
  await using dir = await tempDir();
  const USER = "echo-user";
  const PASSWORD = "echo-Password-81f2";
  const basic = `Basic ${btoa(`${USER}:${PASSWORD}`)}`;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const authorization = request.headers.get("authorization");
    if (authorization !== basic) {
      return new Response(null, {
        status: 401,
        headers: { "WWW-Authenticate": 'Basic realm="echo"' },
      });
    }
    if (new URL(request.url).pathname === "/v2/") return new Response("{}");
    return Response.json({
      errors: [{
        code: "MANIFEST_INVALID",
        message: `bad request from ${authorization} (${USER}:${PASSWORD})`,
      }],
    }, { status: 400 });
  });
  const result = await runCli(
    [
      "pull",
      `127.0.0.1:${server.addr.port}/team/app:v1`,
      "-o",
      join(dir.path, "out"),
      "--plain-http",
      "--username",
      USER,
      "--password-stdin",
      "--debug",
    ],
    {
      stdin: `${PASSWORD}\n`,
      env: {
        HOME: dir.path,
        DOCKER_CONFIG: join(dir.path, ".docker"),
        ARTIFACT_CLI_CACHE_DIR: join(dir.path, "cache"),
        REGISTRY_AUTH_FILE: join(dir.path, "none.json"),
      },
    },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /^error: 127\.0\.0\.1:\d+ answered 400 for manifest v1 in .*: bad request from Basic \[REDACTED\] \(echo-user:\[REDACTED\]\)$/m,
  );
  const output = `${result.stdout}${result.stderr}`;
  assert.ok(!output.includes(PASSWORD) && !output.includes(btoa(`${USER}:${PASSWORD}`)), output);
});
