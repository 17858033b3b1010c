/**
 * The Go educates artifact-cli's sync config (and Educates' workshop
 * fields): `spec.dest`, `image: {url, username, password, insecure}`,
 * root-relative `/` globs, optional `path`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./support/cli.ts";
import { startRegistry } from "./support/registry.ts";
import { describeTree, tempDir } from "./support/tree.ts";

const USER = "educates";
const PASSWORD = "s3cret-Go-config-pw";

async function workshopRegistry(dir: string) {
  const registry = await startRegistry({ tls: true, users: { [USER]: PASSWORD } });
  const src = join(dir, "src");
  for (
    const [path, text] of [
      ["workshop/content/01.md", "one\n"],
      ["workshop/config.yaml", "c\n"],
      ["exercises/a.yaml", "a\n"],
      ["docs/guide.md", "guide\n"],
      ["README.md", "readme\n"],
      ["other/x.txt", "x\n"],
    ]
  ) {
    await Deno.mkdir(join(src, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(src, path), text);
  }
  const env = isolatedEnv(dir, { ARTIFACT_CLI_PASSWORD: PASSWORD });
  const push = await runCli(
    ["push", `${registry.host}/lab-files:8.3`, src, "-u", USER, "--ca-file", registry.caFile!],
    { env },
  );
  assert.equal(push.code, 0, push.stderr);
  return registry;
}

function goConfig(host: string, artifacts: string): string {
  return `apiVersion: training.educates.dev/v1beta1
kind: Workshop
spec:
  dest: ./workshops
  artifacts:
${artifacts.replaceAll("HOST", host)}`;
}

Deno.test("a Go artifact-cli sync config pulls with its credentials, root-relative globs and dest; no secret printed", async () => {
  await using dir = await tempDir();
  await using registry = await workshopRegistry(dir.path);
  await Deno.writeTextFile(
    join(dir.path, "go.yaml"),
    goConfig(
      registry.host,
      `    - path: k8s-fundamentals
      image:
        url: HOST/lab-files:8.3
        username: ${USER}
        password: ${PASSWORD}
      includePaths: [/workshop/**, /exercises/**, /README.md]
      excludePaths: [/README.md, /docs/**]
`,
    ),
  );
  const result = await runCli(
    ["sync", "-c", "go.yaml", "--ca-file", registry.caFile!, "--lock-file", "go.lock", "--debug"],
    { cwd: dir.path, env: isolatedEnv(dir.path) },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    await describeTree(join(dir.path, "workshops", "k8s-fundamentals")),
    [
      "exercises dir 755",
      'exercises/a.yaml file 644 "a\\n"',
      "workshop dir 755",
      'workshop/config.yaml file 644 "c\\n"',
      "workshop/content dir 755",
      'workshop/content/01.md file 644 "one\\n"',
    ].map((l) => l),
  );
  for (
    const text of [result.stdout, result.stderr, await Deno.readTextFile(join(dir.path, "go.lock"))]
  ) {
    assert.ok(!text.includes(PASSWORD), "the password was printed");
    assert.ok(!text.includes(btoa(`${USER}:${PASSWORD}`)), "the basic auth was printed");
  }
});

Deno.test("Go config: path may be left out (the destination itself); filters that keep nothing fail naming the artifact", async () => {
  await using dir = await tempDir();
  await using registry = await workshopRegistry(dir.path);
  const env = isolatedEnv(dir.path, { ARTIFACT_CLI_PASSWORD: PASSWORD });
  const run = (artifacts: string) =>
    Deno.writeTextFile(join(dir.path, "go.yaml"), goConfig(registry.host, artifacts)).then(() =>
      runCli(["sync", "-c", "go.yaml", "--ca-file", registry.caFile!, "-u", USER], {
        cwd: dir.path,
        env,
      })
    );
  const whole = await run(
    `    - image: {url: HOST/lab-files:8.3}\n      includePaths: [/other/**]\n`,
  );
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(await describeTree(join(dir.path, "workshops")), [
    "other dir 755",
    'other/x.txt file 644 "x\\n"',
  ]);
  const none = await run(
    `    - image: {url: HOST/lab-files:8.3}\n      includePaths: [/workshop/**]\n      excludePaths: ["**"]\n`,
  );
  assert.equal(none.code, 1, none.stderr);
  assert.match(
    none.stderr.trim(),
    /^error: \.: no file of .*lab-files:8\.3 passes its includePaths/,
  );
  // The failed sync left the earlier result as it was.
  assert.deepEqual(await describeTree(join(dir.path, "workshops")), [
    "other dir 755",
    'other/x.txt file 644 "x\\n"',
  ]);
});

Deno.test("Go config errors: insecure needs a command-line flag; unknown or bad image fields are named without their values", async () => {
  await using dir = await tempDir();
  const cases: [string, RegExp][] = [
    [
      `    - path: a\n      image: {url: 127.0.0.1:9/x:1, insecure: true}\n`,
      /artifacts\[0\]\.image\.insecure is true: give --insecure .* or --plain-http/,
    ],
    [
      `    - path: a\n      image: {url: 127.0.0.1:9/x:1, token: ${PASSWORD}}\n`,
      /artifacts\[0\]\.image\.token: unknown field/,
    ],
    [
      `    - path: a\n      image: {url: 127.0.0.1:9/x:1, password: ${PASSWORD}}\n`,
      /username and password must be given together/,
    ],
    [
      `    - path: a\n      image: {username: u, password: ${PASSWORD}}\n`,
      /artifacts\[0\]\.image\.url: expected a reference/,
    ],
  ];
  for (const [artifacts, says] of cases) {
    await Deno.writeTextFile(join(dir.path, "go.yaml"), goConfig("", artifacts));
    const result = await runCli(["sync", "-c", "go.yaml"], {
      cwd: dir.path,
      env: isolatedEnv(dir.path),
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, says);
    assert.ok(!result.stderr.includes(PASSWORD));
  }
});
