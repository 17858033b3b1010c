import assert from "node:assert/strict";
import { BoundedFileError, readBoundedFile, readBoundedTextFile } from "../src/fs/bounded_file.ts";

async function problemOf(path: string, options: { followSymlinks?: boolean; maxBytes?: number }) {
  try {
    await readBoundedFile(path, {
      maxBytes: options.maxBytes ?? 1024,
      source: "--x-file",
      ...options,
    });
  } catch (e) {
    assert.ok(e instanceof BoundedFileError, String(e));
    assert.match(e.message, /^--x-file: /);
    return e.problem;
  }
  return "read";
}

Deno.test("a regular file within the limit is read whole, also at exactly the limit", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a`, "x".repeat(1024));
  assert.equal(
    (await readBoundedTextFile(`${dir}/a`, { maxBytes: 1024, source: "--x-file" })).length,
    1024,
  );
  assert.equal(await problemOf(`${dir}/a`, { maxBytes: 1023 }), "too-large");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("devices, FIFOs and directories are refused without being opened", async () => {
  const dir = await Deno.makeTempDir();
  const fifo = `${dir}/fifo`;
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(made.success);
  // Opening a FIFO with no writer blocks: reaching the assertion proves it was not opened.
  assert.equal(await problemOf(fifo, {}), "not-regular");
  assert.equal(await problemOf("/dev/zero", {}), "not-regular");
  assert.equal(await problemOf(dir, {}), "not-regular");
  await Deno.symlink("/dev/zero", `${dir}/zero-link`);
  assert.equal(await problemOf(`${dir}/zero-link`, {}), "not-regular");
  assert.equal(await problemOf(`${dir}/missing`, {}), "missing");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a symbolic link is followed only when allowed", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/target`, "hello");
  await Deno.symlink(`${dir}/target`, `${dir}/link`);
  assert.equal(await problemOf(`${dir}/link`, {}), "read");
  assert.equal(await problemOf(`${dir}/link`, { followSymlinks: false }), "not-regular");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a file that reports size 0 but is longer (/proc) is bounded by the read", async () => {
  const info = await Deno.stat("/proc/self/maps");
  assert.equal(info.size, 0);
  assert.equal(await problemOf("/proc/self/maps", { maxBytes: 16 }), "too-large");
});
