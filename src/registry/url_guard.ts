/**
 * The one check every URL passes before the registry client requests it:
 * only `http:` and `https:`. A registry names URLs (redirects, upload
 * locations, token realms, `Link` pages); fetch would also read `file:`,
 * `data:` and `blob:` URLs, which would let a registry make us read local
 * files or devices.
 *
 * @module
 */

import { ArtifactError } from "../errors.ts";
import { redact } from "./redact.ts";

/** Throw one clear line naming `registry` unless `url` is http: or https:. */
export function requireHttpUrl(url: string, registry: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new ArtifactError(`${registry} sent an invalid URL`);
  }
  if (protocol === "http:" || protocol === "https:") return;
  throw new ArtifactError(
    `${registry} sent a ${protocol} URL (${
      redact(url).slice(0, 200)
    }); only http: and https: URLs are followed`,
  );
}
