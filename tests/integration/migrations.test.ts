import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migrationsFor, type SchemaKind } from "~/db/migrate.server";
import { APP_ROOT } from "~/lib/app-root.server";
import controlConfig from "../../drizzle/control.config";
import tenantConfig from "../../drizzle/tenant.config";

/**
 * A schema change without its migration fails this file: drizzle-kit, run against copies of the
 * committed migration folders, must find nothing to generate.
 */

const DRIZZLE_KIT = join(APP_ROOT, "node_modules", ".bin", "drizzle-kit");
const NOTHING = "No schema changes, nothing to migrate";
const KINDS: SchemaKind[] = ["control", "tenant"];

/**
 * The schema files drizzle-kit reads for each database, as its config lists them. drizzle-kit's
 * --schema takes one path or glob, so several files go in as one {a,b} glob.
 */
function schemaGlob(kind: SchemaKind): string {
  const config = kind === "control" ? controlConfig : tenantConfig;
  const files = ([] as string[]).concat(config.schema ?? []).map((f) => f.replace(/^\.\//, ""));
  expect(files.length).toBeGreaterThan(0);
  return files.length === 1 ? files[0]! : `{${files.join(",")}}`;
}

const cleanup: string[] = [];
afterAll(() => {
  for (const path of cleanup.reverse()) rmSync(path, { recursive: true, force: true });
  // tests/.tmp is ours; remove it when nothing else is left in it.
  const tmp = join(APP_ROOT, "tests", ".tmp");
  if (existsSync(tmp) && readdirSync(tmp).length === 0) rmdirSync(tmp);
});

/** Copies drizzle/<kind> (with meta/) to a fresh temp dir and returns the copy's path. */
function copyMigrations(kind: SchemaKind): string {
  const dir = mkdtempSync(join(tmpdir(), `engage-migrations-${kind}-`));
  cleanup.push(dir);
  const out = join(dir, kind);
  cpSync(join(APP_ROOT, "drizzle", kind), out, { recursive: true });
  return out;
}

function sqlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort();
}

/**
 * drizzle-kit prefixes "./" to --out and exits 0 even when it fails, so paths are passed
 * relative to the repo root and the output is checked, not just the exit code.
 */
function generate(schemaPath: string, out: string): string {
  return execFileSync(
    DRIZZLE_KIT,
    [
      "generate",
      "--dialect",
      "sqlite",
      "--schema",
      relative(APP_ROOT, schemaPath),
      "--out",
      relative(APP_ROOT, out),
    ],
    { cwd: APP_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 },
  );
}

interface Journal {
  entries: { idx: number; when: number; tag: string; breakpoints: boolean }[];
}

function journal(kind: SchemaKind): Journal {
  return JSON.parse(
    readFileSync(join(APP_ROOT, "drizzle", kind, "meta", "_journal.json"), "utf8"),
  ) as Journal;
}

describe("drizzle migrations match the schema", () => {
  it.each(KINDS)("%s: drizzle-kit finds nothing to generate", (kind) => {
    const out = copyMigrations(kind);
    const before = sqlFiles(out);
    const journalBefore = readFileSync(join(out, "meta", "_journal.json"), "utf8");

    const output = generate(join(APP_ROOT, schemaGlob(kind)), out);

    expect(output).toContain(NOTHING);
    expect(sqlFiles(out)).toEqual(before);
    expect(readFileSync(join(out, "meta", "_journal.json"), "utf8")).toBe(journalBefore);
  });

  it("the check catches a schema change that has no migration", () => {
    const source = readFileSync(join(APP_ROOT, "app", "db", "schema", "tenant.ts"), "utf8");
    const changed = source
      .replace(
        'value: text("value").notNull(),',
        'value: text("value").notNull(),\n  addedByTest: text("added_by_test"),',
      )
      // The copy lives elsewhere, so its relative imports must point back into app/.
      .replaceAll('from "../../lib/', `from "${join(APP_ROOT, "app", "lib")}/`);
    expect(changed).not.toBe(source);

    // Inside the repo so that its drizzle-orm import resolves.
    const tmpRoot = join(APP_ROOT, "tests", ".tmp");
    mkdirSync(tmpRoot, { recursive: true });
    const schemaDir = mkdtempSync(join(tmpRoot, "schema-"));
    cleanup.push(schemaDir);
    const schemaPath = join(schemaDir, "tenant.ts");
    writeFileSync(schemaPath, changed);

    const out = copyMigrations("tenant");
    const before = sqlFiles(out);

    const output = generate(schemaPath, out);

    expect(output).not.toContain(NOTHING);
    const added = sqlFiles(out).filter((name) => !before.includes(name));
    expect(added).toHaveLength(1);
    expect(readFileSync(join(out, added[0]!), "utf8")).toMatch(
      /ALTER TABLE `tenant_meta` ADD `added_by_test` text/,
    );
  });
});

describe("migration files", () => {
  it.each(KINDS)("%s: every journal entry has its .sql file and nothing else is there", (kind) => {
    const { entries } = journal(kind);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.map((e) => e.idx)).toEqual(entries.map((_, i) => i));
    const dir = join(APP_ROOT, "drizzle", kind);
    for (const entry of entries) {
      expect(existsSync(join(dir, `${entry.tag}.sql`)), entry.tag).toBe(true);
      const snapshot = `${String(entry.idx).padStart(4, "0")}_snapshot.json`;
      expect(existsSync(join(dir, "meta", snapshot)), snapshot).toBe(true);
    }
    expect(sqlFiles(dir)).toEqual(entries.map((e) => `${e.tag}.sql`).sort());
  });

  it.each(KINDS)("%s: migrationsFor() applies the files in journal order", (kind) => {
    const { entries } = journal(kind);
    const migrations = migrationsFor(kind);
    expect(migrations).toHaveLength(entries.length);
    entries.forEach((entry, i) => {
      const text = readFileSync(join(APP_ROOT, "drizzle", kind, `${entry.tag}.sql`), "utf8");
      expect(migrations[i]!.sql).toEqual(text.split("--> statement-breakpoint"));
      expect(migrations[i]!.folderMillis).toBe(entry.when);
    });
    // Journal order is also time order, so a later migration never sorts before an earlier one.
    const times = entries.map((e) => e.when);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
