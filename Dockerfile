# artifact-cli as a container entrypoint, for users with Docker.
#   docker build -t artifact-cli .
#   docker run --rm -v "$PWD/out:/out" artifact-cli pull ghcr.io/org/workshop:v1 -o /out/workshop
# CI builds the same image without Docker (scripts/build_image.sh, FROM scratch):
# same files in the same places (/usr/bin/deno, /usr/local/lib/artifact-cli.js,
# uid 1001 in /etc/passwd with home /tmp, /workspace), same entrypoint, user,
# working directory and env. tests/container_test.ts compares the two.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY . .
RUN deno task bundle

FROM denoland/deno:2.9.6
COPY --from=build /src/dist/artifact-cli.js /usr/local/lib/artifact-cli.js
RUN groupadd -g 1001 artifact \
 && useradd -u 1001 -g 1001 -d /tmp -M -s /sbin/nologin artifact \
 && install -d -m 0755 /workspace
# The bundle has no remote imports, so nothing is fetched at run time; deno
# keeps only caches in DENO_DIR and runs on when it cannot write there.
ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 DENO_DIR=/tmp/deno PATH=/usr/local/bin:/usr/bin:/bin
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 1001:1001
WORKDIR /workspace
# V8 flags (scripts/v8_flags.ts): a capped young generation (lower peak memory, same speed) and
# an exposed gc, which the upload calls after each chunk.
ENTRYPOINT ["deno", "run", "-A", "--no-prompt", "--v8-flags=--max-semi-space-size=1,--expose-gc", "/usr/local/lib/artifact-cli.js"]
CMD ["--help"]
