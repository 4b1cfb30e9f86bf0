import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory holding package.json. Found by walking up from this module, so it is right both
 * from source (app/lib) and from the server bundle (build/server), whatever the cwd is.
 */
function findAppRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export const APP_ROOT = findAppRoot();

/** The release, from package.json; shown by /healthz and recorded in backups. */
export const APP_VERSION: string = (
  JSON.parse(readFileSync(join(APP_ROOT, "package.json"), "utf8")) as { version: string }
).version;
