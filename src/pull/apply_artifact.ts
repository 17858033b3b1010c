/**
 * Writing the layers of OCI artifacts: a titled blob becomes one file, and
 * an oras directory layer is unpacked under its title. Both go through the
 * TreeWriter, so they obey the same safety rules as tar layers (no writing
 * through symlinks, name limits, size limit, atomic output).
 *
 * @module
 */

import { eachChunk } from "../byte_streams.ts";
import type { TreeWriter } from "../archive/extract.ts";
import type { TarHeader } from "../archive/tar_header.ts";
import type { TarSink } from "../archive/tar_reader.ts";
import { UnsafeContentError } from "../errors.ts";
import type { Descriptor } from "../oci/types.ts";
import type { Target } from "../target.ts";
import { shortDigest } from "./apply_layers.ts";

/** Mode of files written from titled blobs (what oras gives them under umask 022). */
const FILE_MODE = 0o644;

/**
 * Write the blob `layer` as the file `title` (already validated): a
 * synthesised tar header fed to the writer, so the extractor's checks apply.
 *
 * @example
 * ```ts ignore
 * await applyFileLayer(target, layer, writer, "spec.yaml");
 * ```
 */
export async function applyFileLayer(
  target: Target,
  layer: Descriptor,
  writer: TreeWriter,
  title: string,
): Promise<void> {
  const sink = writer.beginLayer({ label: shortDigest(layer.digest) });
  sink.entry(fileHeader(title, layer.size));
  // Read into one reused buffer (the sink takes views, as from the decompressor):
  // fresh chunks per read made a 256 MiB file pull peak at ~130 MiB.
  await eachChunk(await target.fetchBlob(layer), (chunk) => void sink.data(chunk));
  sink.endEntry();
}

/** A regular-file tar header for `name`. */
export function fileHeader(name: string, size: number, mode: number = FILE_MODE): TarHeader {
  return {
    name,
    type: "file",
    typeflag: "0",
    mode,
    uid: 0,
    gid: 0,
    size,
    mtime: 0,
    linkname: "",
    uname: "",
    gname: "",
  };
}

/**
 * A sink filter for oras directory layers: every entry must be the title
 * directory or below it, and links must point inside it, as oras-go's
 * `extractTarDirectory` requires (content/file/utils.go, ensureBasePath).
 */
export function insideDirectory(title: string): (sink: TarSink) => TarSink {
  const inside = (path: string) => {
    const parts: string[] = [];
    for (const part of path.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (parts.length === 0) return false;
        parts.pop();
      } else parts.push(part);
    }
    const clean = parts.join("/");
    return clean === title || clean.startsWith(`${title}/`);
  };
  return (sink) => ({
    entry(header) {
      const refuse = (why: string) =>
        new UnsafeContentError(
          `refusing ${JSON.stringify(header.name)} in directory layer ${
            JSON.stringify(title)
          }: ${why}`,
        );
      if (header.name.startsWith("/") || !inside(header.name)) {
        throw refuse(`it is outside ${title}/`);
      }
      if (header.type === "symlink") {
        const dir = header.name.split("/").slice(0, -1).join("/");
        if (header.linkname.startsWith("/") || !inside(`${dir}/${header.linkname}`)) {
          throw refuse(`its link target ${JSON.stringify(header.linkname)} is outside ${title}/`);
        }
      }
      if (header.type === "hardlink" && !inside(header.linkname)) {
        throw refuse(`its link target ${JSON.stringify(header.linkname)} is outside ${title}/`);
      }
      sink.entry(header);
    },
    data: (chunk) => sink.data(chunk),
    endEntry: () => sink.endEntry(),
  });
}
