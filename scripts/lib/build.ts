import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * The production build is up to date when its stamp matches a fingerprint of every input
 * (paths, sizes, modification times). Checking costs a directory walk, a few ms, so later
 * starts skip the build entirely.
 */
const INPUTS = [
  "app",
  "public",
  "vite.config.ts",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
];
const STAMP = join("build", ".engage-build-stamp");

function walk(root: string, path: string, out: string[]): void {
  const full = join(root, path);
  if (!existsSync(full)) return;
  const stat = statSync(full);
  if (stat.isDirectory()) {
    for (const name of readdirSync(full).sort()) walk(root, join(path, name), out);
  } else if (!/\.test\.tsx?$/.test(path)) {
    out.push(`${relative(root, full)}:${stat.size}:${Math.trunc(stat.mtimeMs)}`);
  }
}

export function sourceFingerprint(root: string): string {
  const entries: string[] = [];
  for (const input of INPUTS) walk(root, input, entries);
  return createHash("sha256").update(entries.join("\n")).digest("hex");
}

export function isBuildFresh(root: string): boolean {
  const stamp = join(root, STAMP);
  if (!existsSync(join(root, "build", "server", "index.js")) || !existsSync(stamp)) return false;
  // An install without the build tools (the production image) cannot rebuild: it trusts its build.
  if (!existsSync(join(root, "node_modules", "@remix-run", "dev"))) return true;
  return readFileSync(stamp, "utf8").trim() === sourceFingerprint(root);
}

export function build(root: string): void {
  const result = spawnSync(join(root, "node_modules", ".bin", "remix"), ["vite:build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
  if (result.status !== 0) throw new Error(`build failed (exit ${result.status ?? result.signal})`);
  writeFileSync(join(root, STAMP), sourceFingerprint(root) + "\n");
}

export function ensureBuild(root: string, log: (message: string) => void): void {
  if (isBuildFresh(root)) return;
  log("No up-to-date build found: building the app once (about a minute)...");
  build(root);
}
