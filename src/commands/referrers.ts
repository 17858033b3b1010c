/**
 * `referrers REF`: what is attached to a manifest (SBOMs, signatures, ...).
 *
 * @module
 */

import { Command } from "commander";
import { LIMITS } from "../oci/limits.ts";
import { formatReference, parseReference } from "../reference.ts";
import { referrersTree, treeLines } from "../referrers/tree.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import { uiFor } from "../ui/ui_for.ts";
import { integerIn } from "./options.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";
import { mediaTypeOption } from "./push_modes.ts";

interface ReferrersOptions extends RegistryFlags {
  artifactType?: string;
  depth: number;
}

/** The `referrers` command. */
export function referrersCommand(): Command {
  return addRegistryOptions(new Command("referrers"))
    .description(
      "List the referrers of a manifest (OCI 1.1 subject): the Referrers API, else the " +
        "sha256-<hex> fallback tag; in an OCI layout, its index.json.",
    )
    .argument("<reference>", "registry/repository[:tag|@digest] or oci:PATH[:tag|@digest]")
    .option("--artifact-type <mediaType>", "only referrers of this artifactType", mediaTypeOption)
    .option(
      "--depth <n>",
      `levels of referrers of referrers to show (1 to ${LIMITS.referrersDepth})`,
      integerIn(1, LIMITS.referrersDepth),
      1,
    )
    .action(async (reference: string, opts: ReferrersOptions, command: Command) => {
      const ui = uiFor(command);
      const ref = parseReference(reference);
      const target = await openTarget(ref, { registry: await registryOptions(opts, ui) });
      try {
        const resolved = await target.resolve(tagOrDigestOf(ref));
        const subject = {
          mediaType: resolved.mediaType,
          digest: resolved.digest,
          size: resolved.size,
        };
        const tree = await referrersTree(target, subject, {
          artifactType: opts.artifactType,
          depth: opts.depth,
        });
        const { tag: _t, digest: _d, ...location } = ref;
        ui.result(
          { reference: formatReference({ ...location, digest: subject.digest }), ...tree },
          treeLines(tree),
        );
      } finally {
        await target.close?.();
      }
    });
}
