import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { jobs } from "~/jobs/index.server";
import { sourceFiles } from "./source";

/**
 * Names tell things apart. A module's file name is what a search, a stack trace and an import
 * line show, so two server modules of different layers never share one (`google.server.ts` in
 * auth and in accounts read the same in every one of those). Jobs are found by the name an
 * operator types.
 */

const SERVER_LAYERS = [
  "app/auth",
  "app/channels",
  "app/db",
  "app/domain",
  "app/emails",
  "app/jobs",
  "app/lib",
  "app/payments",
];

/** Shared on purpose, each for its reason. */
const SHARED_BY_DESIGN: Record<string, string> = {
  // One implementation of the ChannelAdapter interface per provider folder.
  adapter: "app/channels/<provider>/adapter.server.ts",
  // The control database: its connection (app/db) and its schema (app/db/schema).
  control: "app/db/control.server.ts and app/db/schema/control.ts",
  // One implementation of the PaymentProvider interface per provider folder.
  provider: "app/payments/<provider>/provider.server.ts",
  // A provider layer's interface, one per layer: channel adapters and payment providers.
  types: "app/channels/types.ts and app/payments/types.ts",
  // A layer's entry point: the job list (app/jobs) and the provider choice (app/payments).
  index: "app/jobs/index.server.ts and app/payments/index.server.ts",
};

/** "name" of "app/db/backup-files.server.ts" is "backup-files". */
function moduleName(file: string): string {
  return basename(file).replace(/(\.server)?\.(ts|tsx)$/, "");
}

/** Module names used by more than one file, with the files. */
function sharedNames(files: readonly string[]): Record<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const file of files) {
    const name = moduleName(file);
    byName.set(name, [...(byName.get(name) ?? []), file]);
  }
  return Object.fromEntries([...byName].filter(([, list]) => list.length > 1));
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

describe("module names", () => {
  it("no two server modules share a file name, except the ones shared by design", () => {
    const files = sourceFiles(SERVER_LAYERS, /\.(ts|tsx)$/).filter(
      (file) => !/\.test\.tsx?$/.test(file),
    );
    expect(files.length).toBeGreaterThan(100);
    const shared = sharedNames(files);
    for (const name of Object.keys(SHARED_BY_DESIGN)) {
      // Still shared (else the exception goes), and only in the way it says.
      expect(shared[name], name).toBeDefined();
      delete shared[name];
    }
    expect(shared).toEqual({});
  });

  it("the check catches the same name in two layers", () => {
    expect(
      sharedNames([
        "app/auth/google.server.ts",
        "app/domain/accounts/google.server.ts",
        "app/db/backup-files.server.ts",
        "app/domain/operations/backup.server.ts",
      ]),
    ).toEqual({
      google: ["app/auth/google.server.ts", "app/domain/accounts/google.server.ts"],
    });
  });
});

describe("jobs", () => {
  it("each job lives in app/jobs/<name>.server.ts and is exported as its name in camelCase", async () => {
    expect(jobs.length).toBeGreaterThan(5);
    for (const job of jobs) {
      const module = (await import(`../../app/jobs/${job.name}.server.ts`)) as Record<
        string,
        unknown
      >;
      expect(module[camelCase(job.name)], job.name).toBe(job);
      expect(Object.keys(module).filter((key) => module[key] === job)).toEqual([
        camelCase(job.name),
      ]);
    }
  });

  it("job names are unique", () => {
    const names = jobs.map((job) => job.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
