# Loopwright worker and HTTP service image (worker/main.ts runs both in one process today), running
# the JavaScript compiled at image build time (dist/) and the workflow bundles built then too; the
# workflow sources stay in the image because the bundles' cache key is computed from them at start.
# Secrets never enter the image: they come from the environment or mounted files at run time.

FROM node:22-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 falls back to a source build when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# onnxruntime-node ships its CPU binaries; skip the postinstall that would fetch CUDA ones.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev && npm cache clean --force

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-fund --no-audit
COPY workflows ./workflows
COPY activities ./activities
COPY playbooks ./playbooks
COPY policies ./policies
COPY worker ./worker
RUN npx tsc -p tsconfig.build.json
# The two workflow bundles, built now into dist/workflow-bundles/ (worker/workflow-bundle-cache.ts):
# in the running container dist/ belongs to root and the process runs as `node`, so the cache could
# never be written there and every start would run webpack again (~8 s of a 17 s start). The cache
# key hashes the paths and bytes of workflows/, activities/, playbooks/, policies/, worker/ (*.ts)
# and package-lock.json: the final stage copies exactly those to the same /app paths, so a
# start finds these bundles ("workflow bundle …: reused"). tests/dockerfile.test.ts keeps it so.
RUN node dist/worker/bundle-workflows.js

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    LOOPWRIGHT_ROLE=worker
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY playbooks ./playbooks
COPY policies ./policies
COPY taxonomies ./taxonomies
COPY models ./models
COPY worker ./worker
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# Both roles answer GET /healthz on HTTP_PORT (worker/main.ts).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/worker/main.js"]
