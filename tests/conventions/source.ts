import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** The repository's root (tests run from it). */
export const ROOT = process.cwd();

const SKIP = new Set([
  "node_modules",
  "build",
  "data",
  "test-results",
  "playwright-report",
  ".git",
]);

/**
 * Every file under the given folders (repo-relative, with forward slashes) whose name matches
 * `pattern`. A folder that does not exist yet (a layer still to come) has none.
 */
export function sourceFiles(folders: readonly string[], pattern: RegExp): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIP.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (pattern.test(entry.name)) found.push(relative(ROOT, path).split(sep).join("/"));
    }
  };
  for (const folder of folders) if (existsSync(join(ROOT, folder))) walk(join(ROOT, folder));
  return found.sort();
}

export function readSource(file: string): string {
  return readFileSync(join(ROOT, file), "utf8");
}
