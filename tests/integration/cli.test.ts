import Database from "better-sqlite3";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, spawnCli, startTestServer } from "../support/server";

const freshDataDir = () => mkdtempSync(join(tmpdir(), "engage-cli-"));

describe("npm run engage", () => {
  // The other tests run the CLI in-process; this one proves the real process: results on stdout,
  // errors on stderr, exit codes, databases closed before exit. Two process starts: allow for
  // a busy machine.
  it("runs as its own process", { timeout: 90_000 }, async () => {
    const env = { DATA_DIR: freshDataDir() };
    const migrated = await spawnCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout.trim().split("\n")).toHaveLength(1);
    expect(migrated.json[0]).toMatchObject({ control: { version: expect.any(Number) } });
    // A closed database leaves no write-ahead log behind.
    expect(existsSync(join(env.DATA_DIR, "control.db"))).toBe(true);
    expect(existsSync(join(env.DATA_DIR, "control.db-wal"))).toBe(false);
    const missing = await spawnCli(["backup"], env);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr.trim()).toBe("error: --out is required");
  });

  it("prints help for the whole CLI and for each command", async () => {
    const help = await runCli(["--help"], { DATA_DIR: freshDataDir() });
    expect(help.code).toBe(0);
    for (const command of [
      "migrate",
      "jobs list",
      "jobs run <name>",
      "audit verify",
      "backup",
      "restore",
    ]) {
      expect(help.stdout).toContain(command);
    }
    const backupHelp = await runCli(["backup", "--help"], { DATA_DIR: freshDataDir() });
    expect(backupHelp.code).toBe(0);
    expect(backupHelp.stdout).toContain("--out");
  });

  it("answers mistakes with one clear line and a non-zero exit", async () => {
    const env = { DATA_DIR: freshDataDir() };
    const unknown = await runCli(["frobnicate"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const missing = await runCli(["backup"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("error: --out is required");
    const badJob = await runCli(["jobs", "run", "nope"], env);
    expect(badJob.code).toBe(2);
    expect(badJob.stderr).toContain('unknown job "nope"');
    const badOption = await runCli(["migrate", "--force"], env);
    expect(badOption.code).toBe(2);
  });

  it("lists jobs, runs one now and records the run", async () => {
    const env = { DATA_DIR: freshDataDir() };
    const list = await runCli(["jobs", "list"], env);
    expect(list.code).toBe(0);
    expect(list.json.map((j) => (j as { name: string }).name)).toEqual([
      "audit-verify",
      "db-maintenance",
      "auth-cleanup",
      "contacts-housekeeping",
      "whatsapp-template-sync",
      "policy-notices",
      "retention",
      "dsar-tasks",
      "privacy-reindex",
      "inbox-minutely",
    ]);
    const run = await runCli(["jobs", "run", "db-maintenance"], env);
    expect(run.code).toBe(0);
    expect(run.json[0]).toMatchObject({
      job: "db-maintenance",
      outcome: "ok",
      counts: { workspaces: 0 },
    });
    const after = await runCli(["jobs", "list"], env);
    const maintenance = after.json.find((j) => (j as { name: string }).name === "db-maintenance");
    expect(maintenance).toMatchObject({ lastRun: { outcome: "ok" } });
  });

  it("verifies the audit chain and names the first broken row", async () => {
    const env = { DATA_DIR: freshDataDir() };
    // Each backup leaves an audit row.
    await runCli(["backup", "--out", join(env.DATA_DIR, "b1")], env);
    await runCli(["backup", "--out", join(env.DATA_DIR, "b2")], env);
    const ok = await runCli(["audit", "verify"], env);
    expect(ok.code).toBe(0);
    expect(ok.json[0]).toEqual({ rows: 2, ok: true });

    const db = new Database(join(env.DATA_DIR, "control.db"));
    db.exec("DROP TRIGGER audit_log_no_update");
    db.prepare("UPDATE audit_log SET action = 'nothing.happened' WHERE id = 1").run();
    db.close();
    const broken = await runCli(["audit", "verify"], env);
    expect(broken.code).toBe(1);
    expect(broken.json[0]).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it("backs up while the server runs and refuses to restore under it", async () => {
    const server = await startTestServer();
    const env = { DATA_DIR: server.dataDir };
    const out = join(freshDataDir(), "backup");
    try {
      const backup = await runCli(["backup", "--out", out], env);
      expect(backup.code).toBe(0);
      expect(existsSync(join(out, "control.db"))).toBe(true);
      expect(existsSync(join(out, "manifest.json"))).toBe(true);
      const check = new Database(join(out, "control.db"), { readonly: true });
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
      check.close();

      const refused = await runCli(["restore", "--from", out], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/server \(pid \d+\) is using DATA_DIR/);
    } finally {
      await server.stop();
    }
    const restored = await runCli(["restore", "--from", out], env);
    expect(restored.code).toBe(0);
    expect(readdirSync(server.dataDir).some((n) => n.startsWith("pre-restore-"))).toBe(true);
  });

  it("migrates the control db and every workspace file", async () => {
    const env = { DATA_DIR: freshDataDir() };
    const result = await runCli(["migrate"], env);
    expect(result.code).toBe(0);
    expect(result.json[0]).toMatchObject({
      control: { version: expect.any(Number) },
      tenants: { files: 0 },
    });
  });
});
