# Container images, built from the repository root:
#   docker build -t switchyard/gateway:0.1.0 .                 the gateway (last stage, the default)
#   docker build -t switchyard/sim:0.1.0 --target sim .        the simulated GPU pod (runtimes/sim)
# Both share one build stage. test/k8s/manifests.test.ts runs the sim stage's ENTRYPOINT + CMD, so a
# change here that breaks the simulator's command line fails CI (no container engine there).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json prisma.config.ts ./
COPY prisma prisma
COPY scripts scripts
COPY src src
COPY runtimes runtimes
COPY test test
COPY bench bench
# The schema's datasource reads the URL at generate time; nothing connects to it.
RUN SWITCHYARD_DATABASE_URL=postgresql://postgres@localhost:5432/build node node_modules/prisma/build/index.js generate \
 && node node_modules/typescript/bin/tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund

# The simulator: one simulated vLLM (or, with --flavor trtllm, trtllm-serve) pod on port 8000.
FROM node:22-bookworm-slim AS sim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/dist/runtimes dist/runtimes
USER node
EXPOSE 8000
ENTRYPOINT ["node", "dist/runtimes/sim/main.js"]
CMD ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--profile", "llama-3.1-8b-h100", "--host", "0.0.0.0", "--port", "8000"]

# The gateway: migrations (prisma/, prisma.config.ts) run at start-up unless SWITCHYARD_MIGRATE_ON_START=false.
FROM node:22-bookworm-slim AS gateway
ENV NODE_ENV=production SWITCHYARD_HOST=0.0.0.0 SWITCHYARD_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json /app/prisma.config.ts ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/prisma prisma
COPY --from=build /app/scripts/unref-timers.mjs scripts/unref-timers.mjs
COPY --from=build /app/dist/src dist/src
COPY config config
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/main.js"]
