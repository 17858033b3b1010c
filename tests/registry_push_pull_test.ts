import assert from "node:assert/strict";
import { join } from "node:path";
import { RegistryClient } from "../src/registry/client.ts";
import { RegistryTarget } from "../src/registry/registry_target.ts";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { describeTree, makeSampleTree, tempDir } from "./support/tree.ts";

/** Blob uploads (PUT/PATCH of upload sessions and mounts) seen by the registry. */
function uploads(lines: string[]): string[] {
  return lines.filter((l) =>
    /^(PATCH|PUT) \/v2\/[^ ]+\/blobs\/uploads\//.test(l) || /mount=/.test(l)
  );
}

Deno.test("push then pull through a plain-HTTP registry gives back the same tree", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const src = await makeSampleTree(join(dir.path, "src"));
  // A file above the monolithic-upload size makes the layer go through a streamed PATCH.
  await Deno.writeFile(
    join(src, "big.bin"),
    crypto.getRandomValues(new Uint8Array(60000)).map((b) => b & 0x3f),
  );
  const random = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < random.byteLength; i += 65536) {
    crypto.getRandomValues(random.subarray(i, i + 65536));
  }
  await Deno.writeFile(join(src, "random.bin"), random);
  const ref = `${registry.host}/team/app:v1`;
  const push = await runCli(["push", ref, src, "--format", "json"], { env });
  assert.equal(push.code, 0, push.stderr);
  const pushed = JSON.parse(push.stdout);
  assert.equal(pushed.reference, `${registry.host}/team/app@${pushed.digest}`);
  const lines = await registry.settledRequests((l) =>
    l.some((x) => x.startsWith("PUT /v2/team/app/manifests/v1"))
  );
  assert.ok(
    lines.some((l) => l.startsWith("PATCH /v2/team/app/blobs/uploads/")),
    "large layer streamed",
  );

  const out = join(dir.path, "out");
  const pull = await runCli(["pull", ref, "-o", out], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(
    describeTree(out, { modes: true }).filter((l) => !l.includes(".bin")),
    describeTree(src).filter((l) => !l.includes(".bin")),
  );
  assert.deepEqual(await Deno.readFile(join(out, "random.bin")), random);
});

Deno.test("a second push of the same tree uploads no blob", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const src = await makeSampleTree(join(dir.path, "src"));
  const ref = `${registry.host}/team/again:v1`;
  assert.equal((await runCli(["push", ref, src], { env })).code, 0);
  const before = (await registry.settledRequests()).length;
  const second = await runCli(["push", ref, src, "--format", "json"], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(Object.values(JSON.parse(second.stdout).blobs), ["skipped", "skipped"]);
  const after = (await registry.settledRequests()).slice(before);
  assert.deepEqual(uploads(after), [], after.join("\n"));
  assert.ok(after.some((l) => l.startsWith("HEAD /v2/team/again/blobs/")));
});

Deno.test("pushing a blob that another repository of the registry has mounts it instead of uploading", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const src = await makeSampleTree(join(dir.path, "src"));
  assert.equal((await runCli(["push", `${registry.host}/team/a:v1`, src], { env })).code, 0);
  const before = (await registry.settledRequests()).length;
  const push = await runCli(["push", `${registry.host}/team/b:v1`, src], { env });
  assert.equal(push.code, 0, push.stderr);
  const after = (await registry.settledRequests()).slice(before);
  const mounts = after.filter((l) =>
    /^POST \/v2\/team\/b\/blobs\/uploads\/\?mount=.*&from=team%2Fa 201$/.test(l)
  );
  assert.equal(mounts.length, 2, after.join("\n"));
  assert.ok(
    !after.some((l) => /^(PATCH|PUT) \/v2\/team\/b\/blobs\/uploads/.test(l)),
    after.join("\n"),
  );

  // copy between repositories of one registry mounts too, without any cache.
  const copy = await runCli(["copy", `${registry.host}/team/a:v1`, `${registry.host}/team/c:v1`], {
    env: { ...env, ARTIFACT_CLI_CACHE_DIR: join(dir.path, "other-cache") },
  });
  assert.equal(copy.code, 0, copy.stderr);
  const copied = (await registry.settledRequests()).filter((l) => l.startsWith("POST /v2/team/c/"));
  assert.ok(copied.every((l) => /mount=.*&from=team%2Fa 201$/.test(l)), copied.join("\n"));
});

Deno.test("a missing tag or repository exits 3 with one line and leaves the output alone", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const env = isolatedEnv(dir.path);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "keep.txt"), "keep");
  for (
    const ref of [
      `${registry.host}/nothing/here:v1`,
      `${registry.host}/nothing/here@sha256:${"a".repeat(64)}`,
    ]
  ) {
    const pull = await runCli(["pull", ref, "-o", out, "--force"], { env });
    assert.equal(pull.code, 3, pull.stderr);
    assert.match(pull.stderr, /^error: manifest .* not found\n$/);
  }
  assert.deepEqual(describeTree(out), ['keep.txt file 644 "keep"']);
});

Deno.test("tag and tags work against the registry", async () => {
  await using dir = await tempDir();
  await using registry = await startRegistry();
  const src = await makeSampleTree(join(dir.path, "src"));
  const env = isolatedEnv(dir.path);
  assert.equal((await runCli(["push", `${registry.host}/team/tags:v1`, src], { env })).code, 0);
  const tagged = await runCli(["tag", `${registry.host}/team/tags:v1`, "a", "b"], { env });
  assert.equal(tagged.code, 0, tagged.stderr);
  const cli = await runCli(["tags", `${registry.host}/team/tags`], { env });
  assert.equal(cli.stdout, "a\nb\nv1\n");
});

Deno.test("tags are collected across pages following Link headers", async () => {
  // Distribution 2.8 does not paginate tag lists, so a small stub speaks the paginated protocol.
  const seen: string[] = [];
  const pages: Record<string, { tags: string[]; next?: string }> = {
    "": { tags: ["b", "a"], next: "/v2/x/tags/list?n=2&last=b" },
    "b": { tags: ["c", "d"], next: "/v2/x/tags/list?n=2&last=d" },
    "d": { tags: ["e"] },
  };
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    seen.push(`${url.pathname}${url.search}`);
    if (url.pathname === "/v2/") return new Response("{}");
    const page = pages[url.searchParams.get("last") ?? ""];
    const headers: Record<string, string> = {};
    if (page.next) headers.Link = `<${page.next}>; rel="next"`;
    return Response.json({ name: "x", tags: page.tags }, { headers });
  });
  const target = new RegistryTarget(new RegistryClient(`127.0.0.1:${server.addr.port}`), "x", {
    locations: null,
    tagPageSize: 2,
  });
  assert.deepEqual(await target.listTags(), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(seen.filter((s) => s.includes("tags")), [
    "/v2/x/tags/list?n=2",
    "/v2/x/tags/list?n=2&last=b",
    "/v2/x/tags/list?n=2&last=d",
  ]);
});
