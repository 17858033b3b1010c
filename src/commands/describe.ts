/**
 * `describe REF` reports what a reference holds and how pull reads it;
 * `manifest REF` prints a manifest's exact stored bytes (like `oras manifest
 * fetch` and `crane manifest`).
 *
 * @module
 */

import { Command } from "commander";
import { describe } from "../format/describe.ts";
import { selectManifest } from "../format/select.ts";
import { parsePlatform } from "../oci/platform.ts";
import { formatReference, parseReference, withDigest } from "../reference.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import { uiFor } from "../ui/ui_for.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";
import { describeText } from "../ui/describe_text.ts";
import { collect, selectorOf } from "./options.ts";
import { referrersSummary } from "../referrers/summary.ts";

interface RefOptions extends RegistryFlags {
  platform?: string;
  select?: string[];
  ociLayout: boolean;
}

/** The `describe` command. */
export function describeCommand(): Command {
  return addRegistryOptions(new Command("describe"))
    .description(
      "Show what a reference holds: the detected format and why, platforms (attestations " +
        "marked), the manifest pull would use, its config, layers and annotations.",
    )
    .argument("<reference>", "registry/repository[:tag|@digest], or oci:PATH[:tag|@digest]")
    .option("-p, --platform <os/arch[/variant]>", "describe the entry pull --platform would use")
    .option(
      "-s, --select <key=value>",
      "choose the index entry by annotation (repeatable; all must match; index entry, then manifest)",
      collect,
    )
    .option("--oci-layout", "treat the reference as an OCI layout path", false)
    .action(async (reference: string, opts: RefOptions, command: Command) => {
      const ui = uiFor(command);
      const ref = parseReference(reference, { ociLayout: opts.ociLayout });
      const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
      const target = await openTarget(ref, { registry: await registryOptions(opts, ui) });
      try {
        const resolved = await target.resolve(tagOrDigestOf(ref));
        const description = await describe(target, resolved, platform, selectorOf(opts));
        try {
          description.referrers = await referrersSummary(target, resolved);
        } catch (e) {
          // Referrers are extra information: a registry that fails to list them
          // (refuses the endpoint, serves a bad index) does not stop describe.
          ui.debug(`referrers not listed: ${e instanceof Error ? e.message : String(e)}`);
        }
        const shown = formatReference(withDigest(ref, resolved.digest));
        ui.result({ reference: shown, ...description }, describeText(shown, description));
      } finally {
        await target.close?.();
      }
    });
}

/** The `manifest` command. */
export function manifestCommand(): Command {
  return addRegistryOptions(new Command("manifest"))
    .description(
      "Print a manifest or index exactly as stored. With --platform, print the manifest an " +
        "index gives for that platform.",
    )
    .argument("<reference>", "registry/repository[:tag|@digest], or oci:PATH[:tag|@digest]")
    .option("-p, --platform <os/arch[/variant]>", "follow an index to this platform's manifest")
    .option(
      "-s, --select <key=value>",
      "choose the index entry by annotation (repeatable; all must match; index entry, then manifest)",
      collect,
    )
    .option("--oci-layout", "treat the reference as an OCI layout path", false)
    .action(async (reference: string, opts: RefOptions, command: Command) => {
      const ui = uiFor(command);
      const ref = parseReference(reference, { ociLayout: opts.ociLayout });
      const target = await openTarget(ref, { registry: await registryOptions(opts, ui) });
      try {
        const resolved = await target.resolve(tagOrDigestOf(ref));
        const selector = selectorOf(opts);
        const bytes = opts.platform || selector
          ? (await selectManifest(
            target,
            resolved,
            opts.platform ? parsePlatform(opts.platform) : undefined,
            selector,
          )).bytes
          : await target.fetchManifest(resolved);
        if (ui.json) {
          // The manifest itself as the JSON document (pretty), not a wrapper around it.
          ui.result(JSON.parse(new TextDecoder().decode(bytes)), "");
          return;
        }
        let written = 0;
        while (written < bytes.byteLength) {
          written += Deno.stdout.writeSync(bytes.subarray(written));
        }
      } finally {
        await target.close?.();
      }
    });
}
