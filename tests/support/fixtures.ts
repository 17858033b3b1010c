/**
 * Test support: the peer-tool fixtures (bytes written by imgpkg, skopeo and
 * buildah against a real registry), copied verbatim from ../shared/fixtures
 * into tests/fixtures/peers so a clean clone has them.
 */

/** Absolute path of the fixtures directory. */
export const FIXTURES = new URL("../fixtures/peers/", import.meta.url).pathname;

/** Bytes of a fixture file, e.g. `fixture("imgpkg/manifest.json")`. */
export function fixture(path: string): Uint8Array<ArrayBuffer> {
  return Deno.readFileSync(`${FIXTURES}${path}`);
}

/** Content-Type from a `*.headers` fixture. */
export function fixtureContentType(path: string): string {
  const text = Deno.readTextFileSync(`${FIXTURES}${path}`);
  const match = /^Content-Type:\s*(.+)$/mi.exec(text);
  if (!match) throw new Error(`no Content-Type in ${path}`);
  return match[1].trim();
}

/** Docker-Content-Digest from a `*.headers` fixture. */
export function fixtureDigest(path: string): string {
  const text = Deno.readTextFileSync(`${FIXTURES}${path}`);
  const match = /^Docker-Content-Digest:\s*(.+)$/mi.exec(text);
  if (!match) throw new Error(`no Docker-Content-Digest in ${path}`);
  return match[1].trim();
}
