import assert from "node:assert/strict";
import { join } from "node:path";
import { findCredential } from "../src/registry/credentials.ts";
import { tempDir } from "./support/tree.ts";

async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const names = [
    ...Object.keys(env),
    "ARTIFACT_CLI_USERNAME",
    "ARTIFACT_CLI_PASSWORD",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
  ];
  const saved = Object.fromEntries(names.map((k) => [k, Deno.env.get(k)]));
  try {
    for (const k of ["ARTIFACT_CLI_USERNAME", "ARTIFACT_CLI_PASSWORD"]) Deno.env.delete(k);
    for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  }
}

Deno.test("a host's own auth entry wins over podman per-namespace entries, which are a fallback", async () => {
  await using dir = await tempDir();
  const podman = join(dir.path, "auth.json");
  await withEnv(
    { DOCKER_CONFIG: join(dir.path, "docker"), REGISTRY_AUTH_FILE: podman },
    async () => {
      await Deno.writeTextFile(
        podman,
        JSON.stringify({
          auths: {
            "quay.example/team-a": { auth: btoa("team-a:x") },
            "quay.example": { auth: btoa("host:y") },
            "only-ns.example/team": { auth: btoa("ns:z") },
          },
        }),
      );
      assert.equal((await findCredential("quay.example"))?.username, "host");
      assert.equal((await findCredential("only-ns.example"))?.username, "ns");
      assert.equal(await findCredential("team-a"), undefined);
    },
  );
});

Deno.test("identity tokens from config.json and from a credential helper's <token> user", async () => {
  await using dir = await tempDir();
  const bin = join(dir.path, "bin");
  await Deno.mkdir(bin);
  await Deno.mkdir(join(dir.path, "docker"));
  const helper = join(bin, "docker-credential-tok");
  await Deno.writeTextFile(
    helper,
    `#!/bin/sh\nread server\nprintf '{"ServerURL":"%s","Username":"<token>","Secret":"rt-1"}' "$server"\n`,
  );
  await Deno.chmod(helper, 0o755);
  await Deno.writeTextFile(
    join(dir.path, "docker", "config.json"),
    JSON.stringify({
      credHelpers: { "helped.example": "tok" },
      auths: { "https://plain.example/v1/": { identitytoken: "rt-2" } },
    }),
  );
  await withEnv({
    DOCKER_CONFIG: join(dir.path, "docker"),
    REGISTRY_AUTH_FILE: join(dir.path, "none.json"),
    PATH: `${bin}:${Deno.env.get("PATH")}`,
  }, async () => {
    const helped = await findCredential("helped.example");
    assert.equal(helped?.identityToken, "rt-1");
    assert.equal(helped?.password, undefined);
    assert.equal(helped?.source, "credential helper docker-credential-tok");
    assert.equal((await findCredential("plain.example"))?.identityToken, "rt-2");
  });
});
