/**
 * Test support: an OCI layout shaped like a Garden Linux release index.
 */
import { OciLayout } from "../../src/layout/oci_layout.ts";
import { OCI } from "../../src/oci/media_types.ts";
import type { Descriptor } from "../../src/oci/types.ts";
import { json, storeBlob, storeManifest } from "./layouts.ts";

export const FLAVOURS = ["aws", "azure", "container"];

/**
 * An index shaped like Garden Linux's release index (seed 002 and
 * gardenlinux/python-gardenlinux-lib, oci/schemas.py and image_manifest.py):
 * one artifact manifest per cloud flavour and architecture, the entries'
 * platform `gardenlinux/<arch>` with `os.version`, told apart only by the
 * `cname` annotation. Each manifest holds titled files (rootfs, cmdline).
 */
export async function gardenLinuxLayout(
  root: string,
  options: { entryAnnotations?: boolean } = {},
): Promise<Record<string, Descriptor>> {
  const layout = await OciLayout.open(root, { create: true });
  const config = await storeBlob(layout, json({}), OCI.empty);
  const entries: Descriptor[] = [];
  const byCname: Record<string, Descriptor> = {};
  for (const architecture of ["amd64", "arm64"]) {
    for (const flavour of FLAVOURS) {
      const cname = `${flavour}-gardener_prod-${architecture}-1443.3`;
      const layers = [
        await storeBlob(
          layout,
          new TextEncoder().encode(`rootfs of ${cname}\n`),
          "application/io.gardenlinux.image.archive.format.raw",
          {
            annotations: { "org.opencontainers.image.title": `${cname}.raw` },
          },
        ),
        await storeBlob(
          layout,
          new TextEncoder().encode("console=ttyS0\n"),
          "application/io.gardenlinux.cmdline",
          {
            annotations: { "org.opencontainers.image.title": "cmdline" },
          },
        ),
      ];
      const annotations = { cname, architecture, feature_set: `${flavour},gardener,_prod` };
      const manifest = await storeManifest(
        layout,
        json({ schemaVersion: 2, mediaType: OCI.manifest, config, layers, annotations }),
        OCI.manifest,
      );
      const entry = {
        ...manifest,
        platform: { os: "gardenlinux", architecture, "os.version": "1443.3" },
        // Some publishers annotate only the manifests: --select falls back to them.
        ...(options.entryAnnotations ?? true) ? { annotations } : {},
      };
      entries.push(entry);
      byCname[cname] = entry;
    }
  }
  await storeManifest(
    layout,
    json({ schemaVersion: 2, mediaType: OCI.index, manifests: entries }),
    OCI.index,
    "1443.3",
  );
  return byCname;
}
