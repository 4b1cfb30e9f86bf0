# Pleisys Engage production image (Node 24 LTS). Operator guide: docs/deploy.md.
#
#   docker build -t pleisys-engage .
#   docker run -d --name engage --stop-timeout 15 -p 127.0.0.1:3000:3000 \
#     -v engage_data:/data --env-file engage.env pleisys-engage
#
# Node 24 here, Node 20 in dev/CI: see docs/decisions/0004-node-24-in-production.md.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------------
# builder: full dependency tree, native better-sqlite3, Remix/Vite client + server build
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS builder
WORKDIR /app

# node-gyp toolchain: used when better-sqlite3 has no prebuilt binary for this Node ABI/arch.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund

COPY . .

RUN npm run build && test -f build/server/index.js

# Drop dev dependencies (Vite, Remix dev, test and lint tools). tsx stays: it is a runtime
# dependency that runs server.ts and the operator CLI (scripts/engage.ts).
RUN npm prune --omit=dev --no-audit --no-fund \
 && test -x node_modules/.bin/tsx \
 && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"

# ---------------------------------------------------------------------------------------------
# runtime: same base image as the builder, so the compiled better-sqlite3 matches its ABI
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# tini is PID 1: it forwards SIGTERM to the server (which drains and closes the databases) and
# reaps zombies. No curl in the slim image; the health check uses Node's fetch.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# Fresh Fly.io volumes and host bind mounts arrive owned by root, and a mount cannot be given an
# owner in fly.toml. So the container starts as root for one step: hand DATA_DIR (and any file a
# root shell left in it) to the `node` user, then drop to `node` for good with setpriv
# (util-linux, already in the image). Started with `--user node`, it skips straight to the app.
RUN printf '%s\n' \
      '#!/bin/sh' \
      'set -eu' \
      'if [ "$(id -u)" = "0" ]; then' \
      '  mkdir -p "$DATA_DIR"' \
      '  find "$DATA_DIR" ! -user node -exec chown -h node:node {} + \' \
      '    || echo "engage-entrypoint: could not chown $DATA_DIR to node" >&2' \
      '  export HOME=/home/node' \
      '  exec setpriv --reuid=node --regid=node --init-groups --no-new-privs -- "$@"' \
      'fi' \
      'exec "$@"' \
      > /usr/local/bin/engage-entrypoint \
 && chmod 0755 /usr/local/bin/engage-entrypoint

ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000

WORKDIR /app

# Application files stay root-owned and read-only to the app; only /data is writable.
# Migrations are read at run time from drizzle/control and drizzle/tenant. build/ is copied whole,
# including the hidden build/.engage-build-stamp.
COPY --from=builder /app/package.json /app/tsconfig.json /app/server.ts ./
COPY --from=builder /app/node_modules ./node_modules
COPY --from=builder /app/build ./build
COPY --from=builder /app/app ./app
COPY --from=builder /app/scripts ./scripts
COPY --from=builder /app/drizzle ./drizzle
# Read at run time: the privacy policy versions (published at start) and the password list.
COPY --from=builder /app/content ./content

# The runtime has no Vite, so the server trusts build/ as it is (scripts/lib/build.ts).
RUN node --import tsx --input-type=module -e " \
      import { isBuildFresh } from './scripts/lib/build.ts'; \
      if (!isBuildFresh('/app')) { console.error('build/ would be rebuilt at start'); process.exit(1); }"

# Ownership must be set before VOLUME: a new named volume is seeded from this directory.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]

EXPOSE 3000
STOPSIGNAL SIGTERM

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/engage-entrypoint"]
CMD ["node", "--import", "tsx", "server.ts"]
