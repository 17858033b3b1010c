# artifact-cli as a container entrypoint.
#   docker build -t artifact-cli .
#   docker run --rm -v "$PWD/out:/out" artifact-cli pull ghcr.io/org/workshop:v1 -o /out/workshop
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY . .
RUN deno task bundle

FROM denoland/deno:2.9.6
COPY --from=build /src/dist/artifact-cli.js /usr/local/lib/artifact-cli.js
# The bundle has no remote imports, so nothing is fetched at run time.
ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
WORKDIR /workspace
ENTRYPOINT ["deno", "run", "-A", "--no-prompt", "/usr/local/lib/artifact-cli.js"]
CMD ["--help"]
