# syntax=docker/dockerfile:1
# The Mesh OS operator image: built in one stage, run from a small non-root one.
#   docker build -t ghcr.io/meshos/operator:0.1.0 .
#   helm install meshos charts/meshos --set image.repository=ghcr.io/meshos/operator --set image.tag=0.1.0

ARG NODE_VERSION=20.19

# ---- build: compile TypeScript, copy run-time assets, keep production dependencies only ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/.cache

# ---- run: distroless Node.js, no shell, no package manager, user nonroot (65532) ----
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS run
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=65532:65532 /src/package.json ./package.json
COPY --from=build --chown=65532:65532 /src/node_modules ./node_modules
COPY --from=build --chown=65532:65532 /src/dist ./dist
COPY --from=build --chown=65532:65532 /src/crds/generated ./crds/generated
USER 65532:65532
# /healthz, /readyz, /metrics; gRPC discovery; context memory; portal
EXPOSE 8081 50051 50052 8090
# The distroless entrypoint is node; flags come from the chart's args.
CMD ["dist/operator/main.js"]
