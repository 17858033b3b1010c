import assert from "node:assert/strict";
import { UsageError } from "../src/errors.ts";
import { formatReference, parseReference } from "../src/reference.ts";

const DIGEST = `sha256:${"a".repeat(64)}`;

const valid: [string, string][] = [
  ["ubuntu", "registry-1.docker.io/library/ubuntu:latest"],
  ["ubuntu:22.04", "registry-1.docker.io/library/ubuntu:22.04"],
  ["docker.io/ubuntu", "registry-1.docker.io/library/ubuntu:latest"],
  ["index.docker.io/library/ubuntu:1", "registry-1.docker.io/library/ubuntu:1"],
  ["educates/workshop", "registry-1.docker.io/educates/workshop:latest"],
  ["ghcr.io/educates/files:v1", "ghcr.io/educates/files:v1"],
  ["localhost/repo", "localhost/repo:latest"],
  ["localhost:5000/a/b/c:tag-1.0_x", "localhost:5000/a/b/c:tag-1.0_x"],
  ["127.0.0.1:5000/sample/imgpkg:v1", "127.0.0.1:5000/sample/imgpkg:v1"],
  ["[::1]:5000/repo:v1", "[::1]:5000/repo:v1"],
  [`ghcr.io/x/y@${DIGEST}`, `ghcr.io/x/y@${DIGEST}`],
  [`ghcr.io/x/y:v1@${DIGEST}`, `ghcr.io/x/y:v1@${DIGEST}`],
  ["Registry.Example/repo", "Registry.Example/repo:latest"],
  ["a__b/c--d/e.f", "registry-1.docker.io/a__b/c--d/e.f:latest"],
];

for (const [input, expected] of valid) {
  Deno.test(`reference ${input} normalises to ${expected}`, () => {
    assert.equal(formatReference(parseReference(input)), expected);
  });
}

const invalid: [string, RegExp][] = [
  ["", /empty/],
  ["ghcr.io/Educates/files", /lowercase/],
  ["ubuntu:", /empty tag/],
  ["ubuntu:-bad", /invalid tag/],
  [`ubuntu:${"x".repeat(129)}`, /invalid tag/],
  ["ubuntu@sha256:abc", /invalid sha256 digest/],
  ["ubuntu@md5", /invalid digest/],
  [`ubuntu@sha256:${"A".repeat(64)}`, /lower-case hex/],
  ["ghcr.io/", /missing repository/],
  ["ghcr.io/a//b", /invalid repository component ""/],
  ["ghcr.io/a/b_", /invalid repository component/],
  ["ghcr.io/-a", /invalid repository component/],
  ["bad_host:5000/repo", /invalid registry host/],
  [`ghcr.io/${"a".repeat(250)}`, /longer than 255/],
];

for (const [input, message] of invalid) {
  Deno.test(`reference ${JSON.stringify(input)} is refused with a usage error`, () => {
    assert.throws(() => parseReference(input), (e: unknown) => {
      assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
      assert.match((e as Error).message, message);
      return true;
    });
  });
}

Deno.test("oci: references keep the path and split tag or digest", () => {
  assert.deepEqual(parseReference("oci:./store:v1"), {
    kind: "layout",
    path: "./store",
    tag: "v1",
  });
  // A ':' in the path always starts the tag: a path with one of its own ends in a tag.
  assert.deepEqual(parseReference("oci:/tmp/a:b/store:v1"), {
    kind: "layout",
    path: "/tmp/a:b/store",
    tag: "v1",
  });
  for (const text of ["oci:/tmp/a:b/store", "oci:L:../../evil", "oci:L:a/b", "oci:L:.."]) {
    assert.throws(() => parseReference(text), /invalid tag/, text);
  }
  assert.deepEqual(parseReference(`oci:store@${DIGEST}`), {
    kind: "layout",
    path: "store",
    digest: DIGEST,
  });
  assert.deepEqual(parseReference("store:v2", { ociLayout: true }), {
    kind: "layout",
    path: "store",
    tag: "v2",
  });
  assert.throws(() => parseReference("oci:store:"), /empty tag/);
  assert.throws(() => parseReference("oci:"), /empty layout path/);
  assert.throws(() => parseReference("oci:store@sha256:zz"), /invalid/);
});

Deno.test("a digest-only reference gets no default tag", () => {
  const ref = parseReference(`ghcr.io/x/y@${DIGEST}`);
  assert.equal(ref.tag, undefined);
  assert.equal(ref.digest, DIGEST);
});
