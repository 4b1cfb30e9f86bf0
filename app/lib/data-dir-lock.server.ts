import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getEnv } from "./env.server";

/**
 * A pid file that tells operator commands (restore) that a server is using DATA_DIR.
 * A stale file from a crashed server is recognised because its pid is no longer alive.
 */
function lockPath(): string {
  return join(getEnv().DATA_DIR, "server.pid");
}

export function lockDataDir(): void {
  writeFileSync(lockPath(), String(process.pid), { mode: 0o600 });
}

export function unlockDataDir(): void {
  try {
    if (readFileSync(lockPath(), "utf8").trim() === String(process.pid)) rmSync(lockPath());
  } catch {
    // Already gone.
  }
}

/** The pid of a live server using DATA_DIR, if any. */
export function dataDirHolder(): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(lockPath(), "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined;
  }
}
