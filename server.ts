/**
 * The one process: Express hosts the Remix app, serves static assets and runs the jobs.
 * Everything stateful (db handles, scheduler) comes from the app's server build through
 * `host`, so there is exactly one copy of it.
 */
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import compression from "compression";
import express, { type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ViteDevServer } from "vite";
import type { Host } from "./app/host.server";
import { APP_ROOT, APP_VERSION } from "./app/lib/app-root.server";
import { dataDirHolder, lockDataDir, unlockDataDir } from "./app/lib/data-dir-lock.server";
import { getEnv, type Env } from "./app/lib/env.server";
import { logger } from "./app/lib/logger.server";
import { sameOriginGuard } from "./app/lib/origin";
import { ensureBuild } from "./scripts/lib/build";

type BuildLoader = () => Promise<ServerBuild>;

function trustProxySetting(value: string): boolean | number | string[] {
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(",").map((part) => part.trim());
}

/** Routes that take file uploads, with their own (larger) limit. */
const UPLOAD_ROUTES = [/^\/w\/[^/]+\/contacts\/import\/?$/];

/**
 * Non-GET bodies above the limit are refused before anyone reads them. Upload routes get
 * `uploadLimit` (plus room for the form's other fields); their handlers stream to disk.
 */
function limitRequestBody(bodyLimit: number, uploadLimit: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    const limit = UPLOAD_ROUTES.some((route) => route.test(req.path))
      ? uploadLimit + 64 * 1024
      : bodyLimit;
    const length = req.headers["content-length"];
    if (length === undefined && req.headers["transfer-encoding"]) {
      res.status(411).type("text/plain").send("A Content-Length header is required.");
      return;
    }
    if (Number(length) > limit) {
      res.status(413).type("text/plain").send("The request body is too large.");
      return;
    }
    next();
  };
}

function googleAuthOrigin(env: Env): string {
  return new URL(env.GOOGLE_OAUTH_BASE_URL ?? "https://accounts.google.com").origin;
}

function securityHeaders(env: Env, dev: boolean) {
  const nonce = (_req: unknown, res: unknown) => `'nonce-${(res as Response).locals.cspNonce}'`;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        // Vite's dev client injects inline scripts and styles; production needs neither.
        "script-src": dev ? ["'self'", "'unsafe-inline'"] : ["'self'", nonce],
        "style-src": dev ? ["'self'", "'unsafe-inline'"] : ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": dev ? ["'self'", "ws:"] : ["'self'"],
        // "Continue with Google" is a form whose answer redirects to Google; browsers apply
        // form-action to that redirect too.
        "form-action": ["'self'", ...(env.GOOGLE_CLIENT_ID ? [googleAuthOrigin(env)] : [])],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
        ...(env.BASE_URL.startsWith("https://") ? { "upgrade-insecure-requests": [] } : {}),
      },
    },
    strictTransportSecurity: env.BASE_URL.startsWith("https://")
      ? { maxAge: 63072000, includeSubDomains: true }
      : false,
    referrerPolicy: { policy: "strict-origin-when-cross-origin" },
    crossOriginEmbedderPolicy: false,
    xFrameOptions: { action: "deny" },
  });
}

async function main() {
  let env: Env;
  try {
    env = getEnv();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const dev = env.NODE_ENV === "development";
  // One process owns DATA_DIR: a second one would re-send the first one's
  // in-flight messages as orphans and run every job twice.
  const holder = dataDirHolder();
  if (holder !== undefined) {
    console.error(`Another Pleisys Engage server (pid ${holder}) is using ${env.DATA_DIR}.`);
    process.exit(1);
  }

  let loadBuild: BuildLoader;
  let vite: ViteDevServer | undefined;
  if (dev) {
    vite = await (await import("vite")).createServer({ server: { middlewareMode: true } });
    const devServer = vite;
    loadBuild = () => devServer.ssrLoadModule("virtual:remix/server-build") as Promise<ServerBuild>;
  } else {
    ensureBuild(APP_ROOT, (message) => logger.info(message));
    const buildUrl = pathToFileURL(join(APP_ROOT, "build", "server", "index.js")).href;
    const build = (await import(buildUrl)) as ServerBuild;
    loadBuild = async () => build;
  }
  const host = ((await loadBuild()).entry.module as unknown as { host: Host }).host;

  const { localSecrets } = host.boot();
  if (localSecrets.length > 0) {
    logger.warn(
      { secrets: localSecrets, dir: join(env.DATA_DIR, "secrets") },
      `!!! ${localSecrets.join(" and ")} not set: using generated values stored in ` +
        `${join(env.DATA_DIR, "secrets")}. Set ${localSecrets.join(" and ")} in production; ` +
        `losing these files makes stored credentials unreadable and signs everyone out. !!!`,
    );
  }

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", trustProxySetting(env.TRUST_PROXY));

  let shuttingDown = false;

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.locals.cspNonce = randomBytes(16).toString("base64");
    res.setHeader("X-Request-Id", requestId);
    if (shuttingDown) res.setHeader("Connection", "close");
    res.once("close", () => {
      const quiet = req.path === "/healthz" || req.path.startsWith("/assets/");
      logger[quiet ? "debug" : "info"](
        {
          reqId: requestId,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          ip: req.ip,
          userAgent: req.get("user-agent"),
        },
        "request",
      );
    });
    next();
  });
  // Provider webhooks: the raw bytes are what signatures cover, so no Remix form parsing. Ahead
  // of the page middleware (security headers, compression, static files): a provider posting
  // thousands of receipts a second needs none of it, and gets a plain-text answer.
  app.all(
    "/webhooks/:segment/:integrationId",
    express.raw({ type: () => true, limit: env.BODY_LIMIT_BYTES }),
    (req, res, next) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      host
        .receiveWebhook(req.params.segment!, req.params.integrationId!, {
          method: req.method,
          url: `${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`,
          headers,
          body,
        })
        .then((answer) => res.status(answer.status).type(answer.contentType).send(answer.body))
        .catch(next);
    },
  );

  app.use(securityHeaders(env, dev));
  app.use(
    compression({
      filter: (req, res) =>
        !String(res.getHeader("Content-Type") ?? "").startsWith("text/event-stream") &&
        compression.filter(req, res),
    }),
  );

  if (vite) {
    app.use(vite.middlewares);
  } else {
    const client = join(APP_ROOT, "build", "client");
    app.use(
      "/assets",
      express.static(join(client, "assets"), { immutable: true, maxAge: "1y", index: false }),
    );
    app.use(express.static(client, { maxAge: "1h", index: false }));
  }

  app.use(limitRequestBody(env.BODY_LIMIT_BYTES, env.IMPORT_MAX_BYTES));
  // Origin check on every mutation; /api/ and /webhooks/ authenticate otherwise.
  app.use(sameOriginGuard({ baseUrl: env.BASE_URL, logger }));

  if (env.NODE_ENV === "test") {
    // Lets the shutdown test hold a request open; never mounted outside NODE_ENV=test.
    app.get("/__test/slow", (req, res) => {
      const ms = Math.min(Number(req.query.ms) || 1000, 5000);
      setTimeout(() => res.type("text/plain").send(`waited ${ms}ms`), ms);
    });
  }

  // Every request gets a tenant scope: handles it opens stay open until its response is done.
  app.use((_req, res, next) => {
    const scope = host.createTenantScope();
    res.once("close", () => scope.release());
    scope.run(() => next());
  });

  app.all(
    "*",
    createRequestHandler({
      build: dev
        ? async () => host.withAppErrorResponses(await loadBuild())
        : host.withAppErrorResponses(await loadBuild()),
      mode: dev ? "development" : "production",
      getLoadContext: (req, res) => ({
        cspNonce: res.locals.cspNonce as string,
        requestId: res.locals.requestId as string,
        // req.ip honours TRUST_PROXY: X-Forwarded-For is believed only from trusted proxies.
        clientIp: req.ip ?? "",
      }),
    }),
  );

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    // The client's fault, raised before any handler of ours (a webhook body over the limit or
    // badly encoded, an undecodable URL): answer its 4xx as Express itself would, not a 500.
    const { status, expose, message } = (error ?? {}) as {
      status?: unknown;
      expose?: unknown;
      message?: unknown;
    };
    if (typeof status === "number" && status >= 400 && status < 500) {
      logger.warn({ err: error, path: req.path, status }, "bad request");
      if (res.headersSent) return res.end();
      const text = expose === true && typeof message === "string" ? message : "Bad request";
      return res.status(status).type("text/plain").send(text);
    }
    logger.error({ err: error, path: req.path }, "request failed");
    if (res.headersSent) return res.end();
    res.status(500).type("text/plain").send("Something went wrong. Please try again.");
  });

  const server = app.listen(env.PORT, env.HOST, () => {
    const { port } = server.address() as AddressInfo;
    lockDataDir();
    host.startJobs();
    logger.info({ port, url: env.BASE_URL, version: APP_VERSION }, "listening");
  });

  async function shutdown(signal: string) {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    const deadline = setTimeout(() => {
      logger.error("shutdown took too long; exiting with requests still open");
      unlockDataDir();
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    // Keep-alive sockets go idle after their last response; close them as they do.
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    await Promise.all([
      new Promise<void>((resolve) => server.close(() => resolve())),
      host.stopJobs(),
      vite?.close(),
    ]);
    clearInterval(reaper);
    host.closeDatabases();
    unlockDataDir();
    logger.info("shutdown complete");
    process.exit(0);
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

await main();
