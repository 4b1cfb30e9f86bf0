import Database from "better-sqlite3";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn } from "../support/accounts";
import { runCli, startTestServer, type TestServer } from "../support/server";

/**
 * `npm run engage -- user create | workspace create | admin create`, run as an operator would,
 * against the DATA_DIR of a running server, which then lets the people made this way sign in.
 */

const PASSWORD = "amber falcon kettle 731";

describe("npm run engage: accounts", () => {
  let server: TestServer;
  let env: { DATA_DIR: string };

  beforeAll(async () => {
    server = await startTestServer();
    env = { DATA_DIR: server.dataDir };
  });

  afterAll(async () => {
    await server?.stop();
  });

  function query<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(join(env.DATA_DIR, "control.db"), { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  const count = (table: string) => query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)[0]!.n;

  const tenantFiles = () =>
    existsSync(join(env.DATA_DIR, "tenants"))
      ? readdirSync(join(env.DATA_DIR, "tenants")).filter((f) => f.endsWith(".db"))
      : [];

  /** Runs `npm run engage -- <args>` against the server's DATA_DIR. */
  const run = (...args: string[]) => runCli(args, env);

  /** A failed command: exit code, exactly one line on stderr, nothing on stdout. */
  function expectOneLineError(
    result: Awaited<ReturnType<typeof runCli>>,
    code: number,
    pattern: RegExp,
    label = "",
  ) {
    expect(result.code, `${label}\n${result.stderr}`).toBe(code);
    expect(result.stdout, label).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines, `${label}\n${result.stderr}`).toHaveLength(1);
    expect(lines[0], label).toMatch(/^error: /);
    expect(lines[0], label).toMatch(pattern);
    expect(result.stderr, label).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
  }

  /** Failing commands, one after another; each fails with one line. */
  async function expectErrors(cases: [string[], number, RegExp][]) {
    for (const [args, code, pattern] of cases) {
      expectOneLineError(await runCli(args, env), code, pattern, args.join(" "));
    }
  }

  it("lists the commands in --help", async () => {
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("user create --email EMAIL --password PASSWORD --name NAME");
    expect(help.stdout).toContain("workspace create --owner OWNER --name NAME --slug SLUG");
    expect(help.stdout).toContain("admin create --email EMAIL --password PASSWORD [--name NAME]");
    const one = await run("workspace", "create", "--help");
    expect(one.code).toBe(0);
    expect(one.stdout).toContain("[--country COUNTRY] [--timezone TIMEZONE] [--currency CURRENCY]");
  });

  it("creates a verified user who can sign in, printing one JSON line", async () => {
    const result = await run(
      "user",
      "create",
      "--email",
      "  Nina.Operator@Example.com ",
      "--password",
      PASSWORD,
      "--name",
      "Nina Operator",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.json).toEqual([
      { id: expect.stringMatching(/^usr_/), email: "nina.operator@example.com" },
    ]);
    const { id } = result.json[0] as { id: string };
    const [row] = query<{
      email_verified_at: number | null;
      is_platform_admin: number;
      name: string;
    }>("SELECT email_verified_at, is_platform_admin, name FROM users WHERE id = ?", id);
    expect(row).toMatchObject({ is_platform_admin: 0, name: "Nina Operator" });
    expect(row!.email_verified_at).not.toBeNull();
    expect(
      query(
        "SELECT 1 FROM audit_log WHERE action = 'user.created_by_operator' AND target_id = ? AND actor_type = 'cli'",
        id,
      ),
    ).toHaveLength(1);

    // The server (same DATA_DIR) lets them in: 302 with a session cookie.
    const cookie = await signIn(server, "nina.operator@example.com", PASSWORD);
    expect(cookie).toMatch(/^(__Host-)?engage_session=/);
  });

  it("refuses a duplicate email, a weak password, a bad address and bad flags, creating nothing", async () => {
    await run(
      "user",
      "create",
      "--email",
      "dup@example.com",
      "--name",
      "Dup",
      "--password",
      PASSWORD,
    );
    const users = count("users");
    const user = (email: string, password: string, ...rest: string[]) => [
      ..."user create --email".split(" "),
      email,
      "--password",
      password,
      ...rest,
    ];
    await expectErrors([
      [user("DUP@example.com", PASSWORD, "--name", "Dup Again"), 1, /already exists/],
      [user("weak@example.com", "short", "--name", "W"), 1, /^error: --password: Use at least 12/],
      [
        user("common@example.com", "password1234", "--name", "C"),
        1,
        /^error: --password: .*common/,
      ],
      [user("not-an-address", PASSWORD, "--name", "B"), 1, /^error: --email: Enter a valid email/],
      [
        user("blank@example.com", PASSWORD, "--name", "   "),
        1,
        /^error: --name must not be empty$/,
      ],
      [user("m@example.com", PASSWORD), 2, /^error: --name is required$/],
      [user("u@example.com", PASSWORD, "--name", "U", "--role", "x"), 2, /--role/],
      [user("u@example.com", PASSWORD, "--name"), 2, /--name/],
      [["user", "create", "--email", "", "--password", PASSWORD, "--name", "E"], 2, /--email/],
    ]);
    expect(count("users")).toBe(users);
  });

  it("creates a workspace with its own database file, printing one JSON line", async () => {
    await run(
      "user",
      "create",
      "--email",
      "owner@example.com",
      "--password",
      PASSWORD,
      "--name",
      "Olu Owner",
    );
    const result = await run(
      "workspace",
      "create",
      "--owner",
      "Owner@Example.com",
      "--name",
      "Olu Traders",
      "--slug",
      "Olu-Traders",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.json).toEqual([{ id: expect.stringMatching(/^ws_/), slug: "olu-traders" }]);
    const { id } = result.json[0] as { id: string };
    expect(existsSync(join(env.DATA_DIR, "tenants", `${id}.db`))).toBe(true);
    expect(
      query(
        "SELECT slug, name, country, timezone, currency, status FROM workspaces WHERE id = ?",
        id,
      ),
    ).toEqual([
      {
        slug: "olu-traders",
        name: "Olu Traders",
        country: "IN",
        timezone: "Asia/Kolkata",
        currency: "INR",
        status: "active",
      },
    ]);
    expect(
      query<{ role: string; email: string }>(
        "SELECT m.role, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ?",
        id,
      ),
    ).toEqual([{ role: "owner", email: "owner@example.com" }]);

    const us = await run(
      "workspace",
      "create",
      "--owner",
      "owner@example.com",
      "--name",
      "Olu US",
      "--slug",
      "olu-us",
      "--country",
      "us",
      "--timezone",
      "America/New_York",
      "--currency",
      "usd",
    );
    expect(us.code, us.stderr).toBe(0);
    const usId = (us.json[0] as { id: string }).id;
    expect(query("SELECT country, timezone, currency FROM workspaces WHERE id = ?", usId)).toEqual([
      { country: "US", timezone: "America/New_York", currency: "USD" },
    ]);

    // The owner can open it through the server.
    const cookie = await signIn(server, "owner@example.com", PASSWORD);
    const page = await server.fetch("/w/olu-traders", { headers: { cookie } });
    expect(page.status).toBe(200);
  });

  it("refuses an unknown owner and bad slug, country, timezone or currency, creating nothing", async () => {
    await run(
      "user",
      "create",
      "--email",
      "o2@example.com",
      "--name",
      "Owner 2",
      "--password",
      PASSWORD,
    );
    const workspaces = count("workspaces");
    const files = tenantFiles().length;
    const shop = (slug: string, ...rest: string[]) => [
      ..."workspace create --owner o2@example.com --name Shop --slug".split(" "),
      slug,
      ...rest,
    ];
    await expectErrors([
      [
        "workspace create --owner ghost@example.com --name Shop --slug ghost-shop".split(" "),
        1,
        /^error: --owner: no user has the email ghost@example.com/,
      ],
      [shop("Bad Slug!"), 1, /^error: --slug "Bad Slug!": Use 3–40 lower-case letters/],
      [shop("admin"), 1, /^error: --slug "admin": That address is reserved/],
      [shop("olu-traders"), 1, /^error: --slug "olu-traders": That address is taken/],
      [shop("shop-xx", "--country", "XX"), 1, /^error: --country "XX": .*ISO 3166/],
      [
        shop("shop-tz", "--timezone", "Mars/Olympus"),
        1,
        /^error: --timezone "Mars\/Olympus": .*IANA time zone/,
      ],
      [shop("shop-eur", "--currency", "EUR"), 1, /^error: --currency "EUR": Choose INR or USD\.$/],
      [
        shop("shop-all", "--country", "ZZ", "--currency", "GBP"),
        1,
        /--country "ZZ".*; --currency "GBP"/,
      ],
      [shop("shop-name", "--name", " "), 1, /^error: --name " ": Enter a name/],
      [
        "workspace create --owner o2@example.com --name Shop".split(" "),
        2,
        /^error: --slug is required$/,
      ],
    ]);
    expect(count("workspaces")).toBe(workspaces);
    expect(tenantFiles()).toHaveLength(files);
  });

  it("creates a platform admin, and promotes an existing user resetting their password", async () => {
    const created = await run(
      "admin",
      "create",
      "--email",
      "ops@example.com",
      "--password",
      PASSWORD,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toEqual([
      { id: expect.stringMatching(/^usr_/), email: "ops@example.com", created: true },
    ]);
    const opsId = (created.json[0] as { id: string }).id;
    expect(
      query(
        "SELECT is_platform_admin, email_verified_at IS NOT NULL AS verified FROM users WHERE id = ?",
        opsId,
      ),
    ).toEqual([{ is_platform_admin: 1, verified: 1 }]);
    expect(
      query(
        "SELECT actor_type FROM audit_log WHERE action = 'admin.created' AND target_id = ?",
        opsId,
      ),
    ).toEqual([{ actor_type: "cli" }]);

    await run(
      "user",
      "create",
      "--email",
      "lead@example.com",
      "--password",
      PASSWORD,
      "--name",
      "Lee Lead",
    );
    const newPassword = "violet harbour sextant 88";
    const promoted = await run(
      "admin",
      "create",
      "--email",
      "LEAD@example.com",
      "--password",
      newPassword,
    );
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.json).toEqual([
      { id: expect.stringMatching(/^usr_/), email: "lead@example.com", created: false },
    ]);
    expect(
      query("SELECT name, is_platform_admin FROM users WHERE email = 'lead@example.com'"),
    ).toEqual([{ name: "Lee Lead", is_platform_admin: 1 }]);
    await expect(signIn(server, "lead@example.com", PASSWORD)).rejects.toThrow(/failed/);
    expect(await signIn(server, "lead@example.com", newPassword)).toMatch(/engage_session=/);

    const weak = await run(
      "admin",
      "create",
      "--email",
      "weak-admin@example.com",
      "--password",
      "letmein",
    );
    expectOneLineError(weak, 1, /^error: --password: /);
    expect(query("SELECT 1 FROM users WHERE email = 'weak-admin@example.com'")).toEqual([]);
  });

  it("empties a workspace's IP allowlist so a locked-out workspace can be reached again", async () => {
    await run(
      "user",
      "create",
      "--email",
      "locked@example.com",
      "--password",
      PASSWORD,
      "--name",
      "Lo Cked",
    );
    const made = await run(
      "workspace",
      "create",
      "--owner",
      "locked@example.com",
      "--name",
      "Locked",
      "--slug",
      "locked-out",
    );
    const { id } = made.json[0] as { id: string };
    const db = new Database(join(env.DATA_DIR, "control.db"));
    try {
      db.prepare("INSERT INTO ip_allowlist (workspace_id, cidr, label) VALUES (?, ?, ?)").run(
        id,
        "203.0.113.0/24",
        "Old office",
      );
    } finally {
      db.close();
    }
    const cookie = await signIn(server, "locked@example.com", PASSWORD);
    expect((await server.fetch("/w/locked-out", { headers: { cookie } })).status).toBe(403);

    const cleared = await run("workspace", "allowlist-clear", "--slug", "locked-out");
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.json).toEqual([{ slug: "locked-out", removed: 1 }]);
    expect((await server.fetch("/w/locked-out", { headers: { cookie } })).status).toBe(200);
    expect(
      query("SELECT action FROM audit_log WHERE action = 'ip_allowlist.replaced'"),
    ).toHaveLength(1);

    expectOneLineError(
      await run("workspace", "allowlist-clear", "--slug", "nope"),
      1,
      /^error: --slug: no workspace/,
    );
  });

  it("adds an existing user to a workspace with a role, changes it, and refuses mistakes", async () => {
    for (const email of ["team-owner@example.com", "team-mate@example.com"]) {
      const made = await run(
        ..."user create --name Person --email".split(" "),
        email,
        "--password",
        PASSWORD,
      );
      expect(made.code, made.stderr).toBe(0);
    }
    const ws = await run(
      ..."workspace create --owner team-owner@example.com --name Team --slug team-cli".split(" "),
    );
    expect(ws.code, ws.stderr).toBe(0);
    const { id: workspaceId } = ws.json[0] as { id: string };
    const mate = query<{ id: string }>(
      "SELECT id FROM users WHERE email = 'team-mate@example.com'",
    )[0]!.id;
    const roleOf = (userId: string) =>
      query<{ role: string }>(
        "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
        workspaceId,
        userId,
      )[0]?.role;

    const added = await run(
      ..."member add --workspace team-cli --email Team-Mate@example.com --role marketer".split(" "),
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.trim().split("\n")).toHaveLength(1);
    expect(added.json).toEqual([{ userId: mate, role: "marketer" }]);
    expect(roleOf(mate)).toBe("marketer");
    expect(
      query(
        "SELECT 1 FROM audit_log WHERE action = 'member.added' AND workspace_id = ? AND target_id = ? AND actor_type = 'cli'",
        workspaceId,
        mate,
      ),
    ).toHaveLength(1);
    // The member can now open the workspace.
    const cookie = await signIn(server, "team-mate@example.com", PASSWORD);
    expect((await server.fetch("/w/team-cli", { headers: { cookie } })).status).toBe(200);

    // A member with another role: the role changes, audited like the Members page does.
    const changed = await run(
      ..."member add --workspace team-cli --email team-mate@example.com --role viewer".split(" "),
    );
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.json).toEqual([{ userId: mate, role: "viewer" }]);
    expect(roleOf(mate)).toBe("viewer");
    expect(
      query(
        "SELECT details FROM audit_log WHERE action = 'member.role_changed' AND target_id = ? AND actor_type = 'cli'",
        mate,
      ),
    ).toEqual([{ details: JSON.stringify({ from: "marketer", to: "viewer" }) }]);

    const base = "member add --workspace team-cli --email team-mate@example.com --role";
    await expectErrors([
      [[...base.split(" "), "viewer"], 1, /already a member with the role viewer/],
      [
        [...base.split(" "), "superuser"],
        1,
        /--role "superuser": use one of owner, admin, marketer, agent, viewer/,
      ],
      [
        "member add --workspace nowhere --email team-mate@example.com --role viewer".split(" "),
        1,
        /--workspace: no workspace has the address "nowhere"/,
      ],
      [
        "member add --workspace team-cli --email ghost@example.com --role viewer".split(" "),
        1,
        /--email: no user has the email ghost@example.com/,
      ],
      [
        "member add --workspace team-cli --email team-mate@example.com".split(" "),
        2,
        /--role is required/,
      ],
    ]);
    expect(roleOf(mate)).toBe("viewer");
  });
});
