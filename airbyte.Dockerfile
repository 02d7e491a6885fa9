# The Airbyte destination image: `unified-sync airbyte` as one bundled file on Node 20.
#   docker build -f airbyte.Dockerfile -t unified-sync/destination-unified-sync:0.1.0 .
# (docs/pipelines.md, the Docker image: registering it in Airbyte as a custom connector.)

# Build: the CLI (TypeScript, sharing the service's zod schemas and typed client) bundled with its
# npm dependencies into one ES module, so the image needs no node_modules at all.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only the CLI's runtime dependencies (12 packages), and esbuild (the version package.json pins) on
# its own; no install script is needed: esbuild's binary comes as an optional platform package.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install -g --prefix /tools --ignore-scripts --no-audit --no-fund esbuild@0.27.3
COPY tsconfig.json ./
COPY cli ./cli
COPY src ./src
# cli-progress and commander are CommonJS: the banner gives the bundle a `require` for Node's own
# modules; the footer runs the CLI's exported main() (what cli/unified-sync.mjs does in a checkout).
RUN /tools/bin/esbuild cli/main.ts --bundle --platform=node --format=esm --target=node20 \
      --outfile=/out/unified-sync.mjs --log-level=warning \
      --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
      --footer:js="await main(process.argv);" \
 && node /out/unified-sync.mjs airbyte spec > /dev/null

FROM node:20-bookworm-slim
WORKDIR /airbyte/integration_code
COPY --from=build /out/unified-sync.mjs ./unified-sync.mjs
RUN printf '#!/bin/sh\nexec node /airbyte/integration_code/unified-sync.mjs airbyte "$@"\n' > /airbyte/integration_code/destination \
 && chmod +x /airbyte/integration_code/destination
USER node
# Airbyte runs `$AIRBYTE_ENTRYPOINT spec|check|write ...`; ENTRYPOINT makes `docker run IMAGE spec` work too.
ENV AIRBYTE_ENTRYPOINT="/airbyte/integration_code/destination"
ENTRYPOINT ["/airbyte/integration_code/destination"]
LABEL io.airbyte.name=unified-sync/destination-unified-sync
LABEL io.airbyte.version=0.1.0
