import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = process.cwd();

export interface LogLine {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

export interface TestServer {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Every JSON log line the server has printed so far. */
  logs: LogLine[];
  /** Non-JSON output (stderr, warnings). */
  output: string[];
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
  /** Extra node flags, e.g. --cpu-prof for a profile of a benchmark's server. */
  nodeArgs?: string[];
}

/**
 * Boots the real server (server.ts, production build) as a child process on a random port
 * with its own DATA_DIR, the way an operator runs it.
 */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "engage-server-"));
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", "server.ts"],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "test",
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        LOG_LEVEL: "info",
        JOBS_ENABLED: "false",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: LogLine[] = [];
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  let buffered = "";
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${output.join("\n")}`)),
      30_000,
    );
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as LogLine;
          logs.push(entry);
          if (entry.msg === "listening") {
            clearTimeout(timer);
            resolve(`http://127.0.0.1:${entry.port as number}`);
          }
        } catch {
          output.push(line);
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output.join("\n")}`));
    });
  });

  const url = await ready;
  return {
    url,
    dataDir,
    child,
    logs,
    output,
    exited,
    fetch: (path, init) => fetch(url + path, { redirect: "manual", ...init }),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON lines of stdout, parsed. */
  json: unknown[];
}

function cliResult(code: number | null, stdout: string, stderr: string): CliResult {
  const json = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as unknown);
  return { code, stdout, stderr, json };
}

/** Variables of the test runner itself; everything else is the app's configuration. */
const RUNNER_ENV = /^(VITEST|__VITEST|VITE_|TEST$|MODE$|DEV$|PROD$|SSR$|NODE_OPTIONS$|TMPDIR$)/;

/**
 * Runs the operator CLI against a data dir, in this process: the same entry as
 * `npm run engage` (scripts/cli/main.ts) with the environment a spawned CLI would see, a fresh
 * copy of the app's modules (settings and keys are read once per process) and its own database
 * handles, closed afterwards. About a hundred times cheaper than starting node + tsx; spawnCli
 * proves the real process. Logs stay silent unless env sets LOG_LEVEL.
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const { vi } = await import("vitest");
  const savedEnv = { ...process.env };
  const store = globalThis as typeof globalThis & { __engageSingletons?: Map<string, unknown> };
  const savedSingletons = store.__engageSingletons;
  for (const key of Object.keys(process.env)) {
    if (!RUNNER_ENV.test(key)) delete process.env[key];
  }
  Object.assign(process.env, {
    PATH: savedEnv.PATH,
    HOME: savedEnv.HOME,
    NODE_ENV: "test",
    LOG_DESTINATION: "stderr",
    LOG_LEVEL: "silent",
    ...env,
  });
  store.__engageSingletons = new Map();
  vi.resetModules();
  let stdout = "";
  let stderr = "";
  let code: number | null;
  try {
    const { runEngage } = await import("../../scripts/cli/main");
    code = await runEngage(args, {
      print: (value) => (stdout += JSON.stringify(value) + "\n"),
      error: (line) => (stderr += line + "\n"),
      text: (line) => (stdout += line + "\n"),
    });
  } catch (error) {
    // What an uncaught error does to the real process: a trace on stderr and exit code 1.
    stderr += `${(error as Error).stack ?? String(error)}\n`;
    code = 1;
  } finally {
    const { closeAllTenantDbs } = await import("~/db/tenants.server");
    const { closeControlDb } = await import("~/db/control.server");
    closeAllTenantDbs();
    closeControlDb();
    store.__engageSingletons = savedSingletons;
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    vi.resetModules();
  }
  return cliResult(code, stdout, stderr);
}

/** Runs the operator CLI as its own process (`node --import tsx scripts/engage.ts`). */
export async function spawnCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/engage.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return cliResult(code, stdout, stderr);
}
