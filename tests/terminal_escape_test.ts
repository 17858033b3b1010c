/**
 * Untrusted text never reaches the terminal raw: tar names in warnings, tag
 * names from a registry, annotation keys and values in describe and registry
 * error messages have C0/C1 controls escaped (as GNU tar prints names: \\a, \\n, \\033, C1 as its UTF-8 bytes in octal);
 * --format json stays exact JSON with the original strings.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { RawLayout } from "./support/layout_builder.ts";
import { buildTarGz } from "./support/tar_builder.ts";
import { tempDir } from "./support/tree.ts";

const HOSTILE = [
  "\u001b]0;pwned\u0007", // set the terminal title
  "\u001b[2J\u001b[H", // clear the screen
  "\u009b31m", // C1 CSI
  "a\rb", // overwrite the line
  "x\ny", // a forged second line
];
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function assertEscaped(text: string, what: string) {
  assert.ok(!RAW_CONTROL.test(text), `${what} holds a raw control: ${JSON.stringify(text)}`);
}

Deno.test("tar names with control characters are escaped in warnings; the pull still works", async () => {
  await using dir = await tempDir();
  const raw = await RawLayout.create(join(dir.path, "store"));
  const entries = [
    { name: "ok.txt", content: "ok" },
    ...HOSTILE.map((h, i) => ({ name: `fifo-${i}-${h}`, type: "6" })),
  ];
  const manifest = await raw.addImage([buildTarGz(entries)]);
  await raw.setIndex([{ ...manifest, tag: "v1" }]);
  const result = await runCli(["pull", `oci:${raw.root}:v1`, "-o", join(dir.path, "out")]);
  assert.equal(result.code, 0, result.stderr);
  assertEscaped(result.stderr.replaceAll("\n", ""), "stderr");
  assert.match(result.stderr, /fifo-0-\\033\]0;pwned\\a/);
  assert.match(result.stderr, /fifo-4-x\\ny/);
});

Deno.test("describe escapes annotation keys and values in text, keeps them exact in JSON", async () => {
  await using dir = await tempDir();
  const raw = await RawLayout.create(join(dir.path, "store"));
  const layer = await raw.addBlob(
    buildTarGz([{ name: "a.txt", content: "a" }]),
    "application/vnd.oci.image.layer.v1.tar+gzip",
  );
  const annotations = Object.fromEntries(HOSTILE.map((h, i) => [`key${i}${h}`, `value${h}`]));
  const manifest = await raw.addManifest([layer], { annotations });
  await raw.setIndex([{ ...manifest, tag: "v1" }]);
  const text = await runCli(["describe", `oci:${raw.root}:v1`]);
  assert.equal(text.code, 0, text.stderr);
  assertEscaped(text.stdout.replaceAll("\n", "\u0000").replaceAll("\u0000", ""), "describe");
  assert.ok(text.stdout.includes("\\033]0;pwned\\a"), text.stdout);
  const json = await runCli(["describe", `oci:${raw.root}:v1`, "--format", "json"]);
  assert.equal(json.code, 0, json.stderr);
  assert.ok(
    JSON.stringify(JSON.parse(json.stdout)).includes(
      JSON.stringify(annotations["key0\u001b]0;pwned\u0007"]).slice(1, -1),
    ),
  );
});

Deno.test("tag names and registry error messages from a fake registry are escaped", async () => {
  await using dir = await tempDir();
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const api = { "Docker-Distribution-API-Version": "registry/2.0" };
    const path = new URL(req.url).pathname;
    if (path === "/v2/") return new Response("{}", { headers: api });
    if (path.endsWith("/tags/list")) {
      return Response.json({ name: "team/app", tags: HOSTILE.map((h) => `v${h}`) }, {
        headers: api,
      });
    }
    return Response.json(
      { errors: [{ code: "UNSUPPORTED", message: `bad ${HOSTILE.join(" ")}` }] },
      {
        status: 400,
        headers: api,
      },
    );
  });
  const host = `127.0.0.1:${server.addr.port}`;
  const env = isolatedEnv(dir.path);
  const tags = await runCli(["tags", `${host}/team/app`], { env });
  assert.equal(tags.code, 0, tags.stderr);
  assertEscaped(tags.stdout.replaceAll("\n", ""), "tags");
  assert.equal(tags.stdout.trim().split("\n").length, HOSTILE.length, "no forged line");
  const json = await runCli(["tags", `${host}/team/app`, "--format", "json"], { env });
  assert.ok(json.stdout.includes(JSON.stringify(`v${HOSTILE[0]}`)));
  const pull = await runCli(["pull", `${host}/team/app:v1`, "-o", join(dir.path, "o")], { env });
  assert.notEqual(pull.code, 0);
  assertEscaped(pull.stderr.replace(/\n$/, ""), "error line");
});
