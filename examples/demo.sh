#!/usr/bin/env bash
# The main job on a local OCI image layout: push an example workshop directory,
# pull it back, and show that the tree came back the same.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cli() { deno run -A --quiet main.ts "$@"; }

echo "# push examples/workshop to oci:$work/store:v1"
cli push "oci:$work/store:v1" examples/workshop
echo "# pull it back into $work/out"
cli pull "oci:$work/store:v1" -o "$work/out"
echo "# compare"
diff -r examples/workshop "$work/out" && echo "identical: contents, and modes as listed:"
ls -lR "$work/out" | sed -n '1,20p'
