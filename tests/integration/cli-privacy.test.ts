import Database from "better-sqlite3";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, startTestServer } from "../support/server";

/**
 * `npm run engage -- privacy reindex [--workspace SLUG]`, and the rebuild a server runs at its
 * first start, on an install whose contacts came before the privacy subject index.
 */

const PASSWORD = "amber falcon kettle 731";
const PEOPLE = 300;

describe("npm run engage: privacy reindex", () => {
  const env = { DATA_DIR: mkdtempSync(join(tmpdir(), "engage-cli-privacy-")) };
  const run = (...args: string[]) => runCli(args, env);

  function control<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(join(env.DATA_DIR, "control.db"));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  const entries = () =>
    control((db) =>
      (
        db.prepare("SELECT hash FROM subject_index ORDER BY hash").pluck().all() as string[]
      ).slice(),
    );
  const wipe = () => control((db) => db.prepare("DELETE FROM subject_index").run());

  /** The hashes the index must hold: every contact's email and phone, with the install's key. */
  let expected: string[];

  beforeAll(async () => {
    expect(
      (
        await run(
          "user",
          "create",
          "--email",
          "op@privacy.test",
          "--password",
          PASSWORD,
          "--name",
          "Op",
        )
      ).code,
    ).toBe(0);
    for (const slug of ["north", "south"]) {
      const made = await run(
        "workspace",
        "create",
        "--owner",
        "op@privacy.test",
        "--name",
        slug,
        "--slug",
        slug,
      );
      expect(made.code, made.stderr).toBe(0);
    }
    const lines = ["Name,Email,Phone"];
    for (let i = 0; i < PEOPLE; i++) {
      lines.push(
        `Person ${i},person${i}@privacy.test,${i % 3 ? `+91 98${String(30000000 + i)}` : ""}`,
      );
    }
    const file = join(env.DATA_DIR, "people.csv");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const imported = await run("contacts", "import", "--workspace", "north", "--file", file);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json[0]).toMatchObject({ imported: PEOPLE });

    const key = Buffer.from(
      readFileSync(join(env.DATA_DIR, "secrets", "subject-index.key"), "utf8").trim(),
      "base64",
    );
    const hash = (value: string) => createHmac("sha256", key).update(value).digest("base64url");
    expected = [];
    for (let i = 0; i < PEOPLE; i++) {
      expected.push(hash(`email:person${i}@privacy.test`));
      if (i % 3) expected.push(hash(`phone:+9198${30000000 + i}`));
    }
    expected.sort();
  });

  it("the import indexed its contacts", () => {
    expect(entries()).toEqual(expected);
  });

  it("rebuilds one workspace and prints its counts", async () => {
    wipe();
    const done = await run("privacy", "reindex", "--workspace", "north");
    expect(done.code, done.stderr).toBe(0);
    expect(done.json).toEqual([{ workspace: "north", contacts: PEOPLE, entries: expected.length }]);
    expect(entries()).toEqual(expected);
    const empty = await run("privacy", "reindex", "--workspace", "south");
    expect(empty.json).toEqual([{ workspace: "south", contacts: 0, entries: 0 }]);
  });

  it("refuses an unknown workspace with one line", async () => {
    const unknown = await run("privacy", "reindex", "--workspace", "nowhere");
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr.trim()).toBe(
      'error: --workspace: no workspace has the address "nowhere"',
    );
  });

  it("rebuilds at a server's first start, in the background, once", async () => {
    wipe();
    const server = await startTestServer({ dataDir: env.DATA_DIR });
    try {
      const built = () =>
        control((db) =>
          db
            .prepare(
              "SELECT counts FROM job_runs WHERE name = 'privacy-reindex' AND outcome = 'ok'",
            )
            .pluck()
            .get(),
        ) as string | undefined;
      for (let i = 0; i < 100 && !built(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(JSON.parse(built()!)).toEqual({
        workspaces: 2,
        contacts: PEOPLE,
        entries: expected.length,
        failed: 0,
      });
      expect(entries()).toEqual(expected);
      expect((await server.fetch("/healthz")).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it("rebuilds every workspace as a recorded job run", async () => {
    wipe();
    const done = await run("privacy", "reindex");
    expect(done.code, done.stderr).toBe(0);
    expect(done.json[0]).toMatchObject({
      job: "privacy-reindex",
      outcome: "ok",
      counts: { workspaces: 2, contacts: PEOPLE, entries: expected.length, failed: 0 },
    });
    expect(entries()).toEqual(expected);
    const runs = control((db) =>
      db
        .prepare("SELECT trigger FROM job_runs WHERE name = 'privacy-reindex' ORDER BY id")
        .pluck()
        .all(),
    );
    expect(runs).toEqual(["schedule", "cli"]);
  });
});
