/**
 * imgpkg compatibility on pull. imgpkg packs files with their owner bits
 * only (a layer holds `rwx------`), and its own pull widens them again: it
 * copies the owner bits to group and other and creates every file and
 * directory with that mode, which the process umask then narrows. See
 * carvel-dev/imgpkg pkg/imgpkg/image/dir_image.go, `extractTarEntry`:
 *
 *     userPermission := int64(mode & 0700)
 *     permMode := os.FileMode(userPermission | userPermission>>3 | userPermission>>6)
 *     ... os.MkdirAll(path, permMode) / os.OpenFile(path, ..., permMode)
 *
 * So `rw-------` becomes `rw-r--r--` and `rwx------` becomes `rwxr-xr-x`
 * under the usual umask 022. We do exactly that for imgpkg images and bundles.
 *
 * @module
 */

/**
 * The mode imgpkg gives an extracted file or directory stored with `mode`.
 *
 * @example
 * ```ts
 * import { imgpkgMode } from "./imgpkg.ts";
 * console.assert(imgpkgMode(0o700, 0o022) === 0o755);
 * console.assert(imgpkgMode(0o600, 0o022) === 0o644);
 * ```
 */
export function imgpkgMode(mode: number, umask: number = currentUmask()): number {
  const owner = mode & 0o700;
  return (owner | owner >> 3 | owner >> 6) & ~umask;
}

/** The process umask, read without changing it. */
export function currentUmask(): number {
  try {
    return Deno.umask();
  } catch {
    return 0o022; // platforms without umask (Windows)
  }
}

/** Note printed when an imgpkg bundle is pulled. */
export const BUNDLE_NOTE =
  "note: this is an imgpkg bundle; its files are pulled, but the images listed in " +
  ".imgpkg/images.yml are not fetched (use imgpkg copy for those)";
