import { createRequire } from "node:module";
import { dirname, isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type ResourceLimits } from "node:worker_threads";
import { APP_ROOT } from "./app-root.server";

/**
 * Starts CPU-heavy work (CSV import, contact exports) in a worker thread so the web stays
 * responsive. Workers run their TypeScript source through tsx, resolved from APP_ROOT, so the
 * same call works from `npm start`, from tests, from the CLI and from the built server bundle
 * (build/server/index.js), whatever the current directory is.
 *
 * Why a bootstrap instead of `execArgv: ["--import", "tsx"]`: on Node 20 tsx only registers its
 * loader on the main thread when preloaded with --import, so a worker started that way cannot
 * load a .ts file. The bootstrap registers tsx's ESM hooks inside the worker (with the app's
 * tsconfig, for the "~/" paths) and then imports the worker module; that works on Node 20 and
 * later alike. `execArgv: []` keeps the parent's own --import tsx from registering twice.
 */

const requireFromApp = createRequire(join(APP_ROOT, "package.json"));

function tsxApiUrl(): string {
  // The ESM build of tsx's API ("tsx/esm/api", import condition).
  const root = dirname(requireFromApp.resolve("tsx/package.json"));
  return pathToFileURL(join(root, "dist", "esm", "api", "index.mjs")).href;
}

/** The worker module's absolute path: `relativePath` is relative to APP_ROOT. */
export function workerModulePath(relativePath: string): string {
  return isAbsolute(relativePath) ? relativePath : join(APP_ROOT, relativePath);
}

export interface StartWorkerOptions {
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  /** Worker name, shown in diagnostics. */
  name?: string;
}

/** Starts `relativePath` (a .ts module under APP_ROOT) in a new worker thread. */
export function startWorker(relativePath: string, options: StartWorkerOptions = {}): Worker {
  const target = pathToFileURL(workerModulePath(relativePath)).href;
  const tsconfig = join(APP_ROOT, "tsconfig.json");
  const bootstrap = [
    `import { register } from ${JSON.stringify(tsxApiUrl())};`,
    `register({ tsconfig: ${JSON.stringify(tsconfig)} });`,
    `await import(${JSON.stringify(target)});`,
  ].join("\n");
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), {
    execArgv: [],
    workerData: options.workerData,
    resourceLimits: options.resourceLimits,
    name: options.name,
  });
}

/** What a worker started with runWorker posts back, once, before it ends. */
export type WorkerReply<T> = { ok: true; result: T } | { ok: false; error: string };

/**
 * Runs a worker to completion: resolves with the `result` it posts ({ ok: true, result }),
 * rejects with its error message ({ ok: false, error }), an uncaught error, or an exit without
 * an answer.
 */
export function runWorker<T>(relativePath: string, options: StartWorkerOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const worker = startWorker(relativePath, options);
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.on("message", (reply: WorkerReply<T>) => {
      settle(() => {
        if (reply && reply.ok) resolve(reply.result);
        else reject(new Error(reply?.error ?? "The worker failed without saying why."));
      });
    });
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) =>
      settle(() => reject(new Error(`The worker stopped (exit code ${code}) before finishing.`))),
    );
  });
}
