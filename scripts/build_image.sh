#!/usr/bin/env bash
# Builds the artifact-cli container image without Docker and without network:
# a FROM scratch root holding the Deno binary, the shared libraries it links
# (with the dynamic loader), CA certificates, /etc/passwd and /etc/group with a
# non-root user (uid 1001), /tmp, /workspace and the bundle. The result is an
# OCI image layout (buildah writes it), tagged, for `artifact-cli copy`.
#
#   scripts/build_image.sh [LAYOUT_DIR [TAG]]     (defaults: dist/image, deno.json's version)
#
# The Dockerfile builds the same image from denoland/deno for Docker users: same
# files in the same places, same entrypoint, user, working directory and env.
# Keep the two in step (tests/container_test.ts checks this script's image).
# Needs buildah (any user that can run it; root here). DENO_BIN overrides the
# Deno binary to ship (default: the `deno` on PATH, symlinks resolved).
set -euo pipefail
cd "$(dirname "$0")/.."

layout=${1:-dist/image}
tag=${2:-$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' deno.json)}
deno_bin=$(readlink -f "${DENO_BIN:-$(command -v deno)}")
# npm's deno is the real binary; a wrapper script would ship without its target.
# It must be the host's architecture too: ldd reads its libraries from this machine.
if [ "$(head -c 4 "$deno_bin" | od -An -c | tr -d ' ')" != '177ELF' ]; then
  echo "build_image.sh: $deno_bin is not an ELF binary" >&2
  exit 2
fi

# The image's configuration, shared in meaning with the Dockerfile.
entrypoint='["deno","run","-A","--no-prompt","--v8-flags=--max-semi-space-size=1,--expose-gc","/usr/local/lib/artifact-cli.js"]'
user=1001:1001
workdir=/workspace
# DENO_DIR under /tmp: deno only keeps caches there (the bundle imports nothing
# remote), so a writable /tmp (an emptyDir) is used and a read-only one is fine.
# HOME is not set: the runtime takes it from /etc/passwd (/tmp for uid 1001).
env=(DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 DENO_DIR=/tmp/deno PATH=/usr/local/bin:/usr/bin:/bin)

deno task -q bundle

stage=$(mktemp -d)
store=$(mktemp -d)
cleanup() { rm -rf "$stage" "$store"; }
trap cleanup EXIT

# The root filesystem, staged as a plain directory first so one copy makes one layer.
install -D -m 0755 "$deno_bin" "$stage/usr/bin/deno"
install -D -m 0644 dist/artifact-cli.js "$stage/usr/local/lib/artifact-cli.js"
# Every library ldd lists (and the loader), at the path the binary asks for.
while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$stage$lib"
done < <(ldd "$deno_bin" | grep -oE '/[^ ]+' | sort -u)
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$stage/etc/ssl/certs/ca-certificates.crt"
install -d -m 0755 "$stage/etc"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
  'artifact:x:1001:1001:artifact-cli:/tmp:/sbin/nologin' >"$stage/etc/passwd"
printf '%s\n' 'root:x:0:' 'artifact:x:1001:' >"$stage/etc/group"
printf 'hosts: files dns\n' >"$stage/etc/nsswitch.conf"
install -d -m 1777 "$stage/tmp"
install -d -m 0755 "$stage$workdir"
# Fixed times, so the same inputs give the same layer.
find "$stage" -exec touch -h -d @0 {} +

b=(buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs)
ctr=$("${b[@]}" from --quiet scratch)
"${b[@]}" copy --quiet "$ctr" "$stage/" / >/dev/null
config=(--entrypoint "$entrypoint" --cmd '["--help"]' --user "$user" --workingdir "$workdir"
  --os linux --arch "$(deno eval -q 'console.log({x86_64:"amd64",aarch64:"arm64"}[Deno.build.arch])')")
for e in "${env[@]}"; do config+=(--env "$e"); done
"${b[@]}" config "${config[@]}" \
  --label org.opencontainers.image.title=artifact-cli \
  --label "org.opencontainers.image.version=$tag" "$ctr"
rm -rf "$layout"
mkdir -p "$(dirname "$layout")"
"${b[@]}" commit --quiet --timestamp 0 --disable-compression=false --format oci \
  "$ctr" "oci:$layout:$tag" >/dev/null
"${b[@]}" rm "$ctr" >/dev/null
echo "oci:$layout:$tag"
