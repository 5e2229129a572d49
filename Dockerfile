# The rexian controller. Asterisk runs elsewhere (its own host or container); point
# REXIAN_ARI_URL / REXIAN_AMI_HOST at it and share the prompts directory with it.

# --- build: compile TypeScript ------------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
RUN npx tsc -p tsconfig.json --outDir dist && npm run build:web && npm prune --omit=dev

# --- run: node, espeak-ng and sox for prompts, no compilers, no root ----------------------
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app rexian \
 && mkdir -p /var/lib/rexian/prompts && chown rexian /var/lib/rexian/prompts
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist
COPY package.json ./
COPY --from=build /app/web/dist ./web/dist
COPY migrations ./migrations
COPY prompts ./prompts
COPY ivr-flows ./ivr-flows
COPY sip-config/queues.yaml ./sip-config/queues.yaml
ENV NODE_ENV=production REXIAN_HTTP_HOST=0.0.0.0
USER rexian
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/readyz || exit 1
CMD ["node", "dist/main.js"]
