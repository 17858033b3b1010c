/**
 * The V8 flags every way of running the CLI passes (`deno run`, the bundle's
 * shebang, `deno install`, `deno compile`, the container's entrypoint): a
 * young generation of 1 MiB semi-spaces. V8 grows the semi-spaces up to 16
 * MiB when a program allocates fast, which a pull of 100 000 files does
 * (names, headers); capped, the same pull peaks at ~70 MiB instead of ~86,
 * a 100 000-file push at ~84 instead of ~99, with the same CPU time
 * (docs/performance.md). `--expose-gc` lets the upload ask for a minor
 * collection after each chunk (src/gc_hint.ts): fetch copies every chunk, and
 * without it a 357 MiB registry push peaked at ~190 MiB instead of ~127. The
 * flags cannot be set from inside the program: the heap exists before the
 * first line runs.
 *
 * @module
 */

/** The flags as `deno run` takes them. */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--expose-gc";
