/**
 * A Target decorator that serves blobs from the local content store and
 * keeps every blob it downloads there, so a second pull of unchanged content
 * downloads nothing. Manifests are not cached: a tag must be re-resolved.
 * Cache trouble never fails a pull: the entry is skipped with one warning.
 *
 * @module
 */

import { observeBytes } from "../byte_streams.ts";
import type { Target } from "../target.ts";
import { cacheSettings } from "./settings.ts";
import { ContentStore } from "./content_store.ts";

/** Open the store the settings name; undefined (with one warning) if it is off or unusable. */
export async function openCache(
  warn: (message: string) => void,
  env?: Record<string, string | undefined>,
): Promise<ContentStore | undefined> {
  const settings = cacheSettings(env);
  if (!settings.dir) return undefined;
  try {
    return await ContentStore.open(settings.dir, settings.maxBytes);
  } catch (e) {
    warn(`content cache ${settings.dir} is not usable, continuing without it (${errorText(e)})`);
    return undefined;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Wrap a remote `target` so blob reads go through `store`. Local targets
 * (layouts) and an absent store are returned unchanged.
 */
export function withCache(
  target: Target,
  store: ContentStore | undefined,
  warn: (message: string) => void,
): Target {
  if (!store || target.local) return target;
  let warned = false;
  const warnOnce = (message: string) => {
    if (warned) return;
    warned = true;
    warn(message);
  };
  const fetchBlob: Target["fetchBlob"] = async (descriptor) => {
    let cached: Awaited<ReturnType<ContentStore["read"]>>;
    try {
      cached = await store.read(descriptor);
    } catch (e) {
      cached = undefined;
      warnOnce(`content cache read failed, downloading instead (${errorText(e)})`);
    }
    if (cached === "corrupt") {
      warnOnce(`content cache entry ${descriptor.digest} was corrupt; removed, downloading again`);
    } else if (cached) {
      return cached;
    }
    const stream = await target.fetchBlob(descriptor);
    let writer: ReturnType<ContentStore["writer"]> | undefined;
    const drop = (e: unknown) => {
      writer?.abort();
      writer = undefined;
      warnOnce(`content cache write failed, continuing without it (${errorText(e)})`);
    };
    try {
      writer = store.writer(descriptor);
    } catch (e) {
      drop(e);
    }
    if (!writer) return stream;
    return observeBytes(stream, {
      chunk(view) {
        try {
          writer?.write(view);
        } catch (e) {
          drop(e);
        }
      },
      end() {
        try {
          writer?.commit();
        } catch (e) {
          drop(e);
        }
      },
    });
  };
  // Explicit delegation: registry targets keep #private state, so `this` must stay `target`.
  return {
    get name() {
      return target.name;
    },
    get location() {
      return target.location;
    },
    get local() {
      return target.local;
    },
    resolve: (tagOrDigest) => target.resolve(tagOrDigest),
    fetchManifest: (descriptor) => target.fetchManifest(descriptor),
    fetchBlob,
    exists: (descriptor) => target.exists(descriptor),
    pushBlob: (descriptor, source) => target.pushBlob(descriptor, source),
    pushManifest: (descriptor, bytes, tag, options) =>
      target.pushManifest(descriptor, bytes, tag, options),
    tag: (descriptor, tag) => target.tag(descriptor, tag),
    listTags: () => target.listTags(),
    close: () => target.close?.(),
  };
}
