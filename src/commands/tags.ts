/**
 * `tags REPO` lists tags; `tag REF NEWTAG...` adds tags to what REF points at.
 *
 * @module
 */

import { Command } from "commander";
import { UsageError } from "../errors.ts";
import { formatReference, parseReference } from "../reference.ts";
import { openTarget, tagOrDigestOf } from "../targets.ts";
import { uiFor } from "../ui/ui_for.ts";
import { addRegistryOptions, type RegistryFlags, registryOptions } from "./registry_options.ts";

const TAG = /^[\w][\w.-]{0,127}$/;

/** The `tags` command. */
export function tagsCommand(): Command {
  return addRegistryOptions(new Command("tags"))
    .description("List the tags of a repository or OCI layout, sorted.")
    .argument("<repository>", "registry/repository or oci:PATH (a tag, if given, is ignored)")
    .action(async (repository: string, opts: RegistryFlags, command: Command) => {
      const ui = uiFor(command);
      const ref = parseReference(repository);
      const target = await openTarget(ref, { registry: await registryOptions(opts, ui) });
      try {
        const tags = await target.listTags();
        const { tag: _t, digest: _d, ...location } = ref;
        ui.result({ repository: formatReference(location), tags }, tags);
      } finally {
        await target.close?.();
      }
    });
}

/** The `tag` command. */
export function tagCommand(): Command {
  return addRegistryOptions(new Command("tag"))
    .description("Point one or more new tags at what a reference points at (no content is copied).")
    .argument("<reference>", "registry/repository[:tag|@digest] or oci:PATH[:tag|@digest]")
    .argument("<tags...>", "new tags")
    .action(async (reference: string, tags: string[], opts: RegistryFlags, command: Command) => {
      const ui = uiFor(command);
      for (const tag of tags) {
        if (!TAG.test(tag)) throw new UsageError(`invalid tag ${JSON.stringify(tag)}`);
      }
      const ref = parseReference(reference);
      const target = await openTarget(ref, {
        write: true,
        registry: await registryOptions(opts, ui),
      });
      try {
        const descriptor = await target.resolve(tagOrDigestOf(ref));
        const bytes = await target.fetchManifest(descriptor);
        for (const tag of tags) await target.pushManifest(descriptor, bytes, tag);
        const { tag: _t, digest: _d, ...location } = ref;
        const tagged = tags.map((tag) => formatReference({ ...location, tag }));
        ui.result({ digest: descriptor.digest, tagged }, tagged.join("\n"));
      } finally {
        await target.close?.();
      }
    });
}
