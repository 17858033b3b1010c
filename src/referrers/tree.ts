/**
 * The referrers graph below a subject, to a bounded depth: referrers of
 * referrers (a signature of an SBOM) are found the same way as the first level.
 *
 * @module
 */

import { ParseError } from "../errors.ts";
import { LIMITS } from "../oci/limits.ts";
import type { Descriptor } from "../oci/types.ts";
import { escapeControl } from "../ui/escape.ts";
import type { Target } from "../target.ts";
import { listReferrers, type ReferrersSource } from "./discover.ts";

/** One referrer and, below it, its own referrers. */
export interface ReferrerNode extends Descriptor {
  /** Its own referrers (set when `depth` allows and there are some). */
  referrers?: ReferrerNode[];
}

/** The referrers tree of one subject. */
export interface ReferrersTree {
  /** What the referrers refer to. */
  subject: Descriptor;
  /** Where the first level was found. */
  source: ReferrersSource;
  /** The subject's referrers, each with its own below it. */
  referrers: ReferrerNode[];
}

/** Options for {@link referrersTree}. */
export interface ReferrersTreeOptions {
  /** Only referrers of this artifactType (at every level). */
  artifactType?: string;
  /** Levels to walk: 1 is the subject's own referrers (the default). */
  depth?: number;
}

/**
 * The referrers of `subject`, nested `depth` levels deep; at most
 * `LIMITS.referrers` nodes in all, and a digest is walked once (no cycles).
 *
 * @example
 * ```ts ignore
 * const tree = await referrersTree(target, await target.resolve("v1"), { depth: 2 });
 * ```
 */
export async function referrersTree(
  target: Target,
  subject: Descriptor,
  options: ReferrersTreeOptions = {},
): Promise<ReferrersTree> {
  const depth = Math.min(Math.max(options.depth ?? 1, 1), LIMITS.referrersDepth);
  const seen = new Set<string>([subject.digest]);
  let count = 0;
  const walk = async (of: Descriptor, level: number) => {
    const list = await listReferrers(target, of, options.artifactType);
    const nodes: ReferrerNode[] = [];
    for (const referrer of list.referrers) {
      if (seen.has(referrer.digest)) continue;
      seen.add(referrer.digest);
      if (++count > LIMITS.referrers) {
        throw new ParseError(`more than ${LIMITS.referrers} referrers below ${subject.digest}`);
      }
      const node: ReferrerNode = { ...referrer };
      if (level < depth) {
        const below = (await walk(referrer, level + 1)).nodes;
        if (below.length) node.referrers = below;
      }
      nodes.push(node);
    }
    return { nodes, source: list.source };
  };
  const top = await walk(subject, 1);
  return { subject, source: top.source, referrers: top.nodes };
}

/** Text lines of a tree: the subject, then one line per referrer, indented. */
export function treeLines(tree: ReferrersTree): string[] {
  const lines = [tree.subject.digest];
  const add = (nodes: ReferrerNode[], prefix: string) => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      const type = escapeControl(node.artifactType ?? node.mediaType);
      lines.push(`${prefix}${last ? "└── " : "├── "}${type} ${node.digest}`);
      if (node.referrers) add(node.referrers, prefix + (last ? "    " : "│   "));
    });
  };
  add(tree.referrers, "");
  return lines;
}
