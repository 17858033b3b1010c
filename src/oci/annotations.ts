/**
 * Annotation keys with a meaning shared by several tools.
 *
 * @module
 */

/** The OCI spec's (and oras's) name of the file a layer holds. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
/** oras: the layer is a tar+gzip of a directory, to be unpacked under the title. */
export const UNPACK_ANNOTATION = "io.deis.oras.content.unpack";
/** oras: the digest of a directory layer's uncompressed tar. */
export const CONTENT_DIGEST_ANNOTATION = "io.deis.oras.content.digest";
