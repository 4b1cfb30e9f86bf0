import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { AUDIT_CSV_COLUMNS, csvCell } from "~/domain/audit/audit-export.server";
import { listAuditEvents } from "~/domain/audit/audit-queries.server";
import { recordAudit } from "~/domain/audit/audit.server";
import { listAllowlist } from "~/domain/workspaces/allowlist.server";
import { createApiKey, listApiKeys, verifyApiKey } from "~/domain/workspaces/api-keys.server";
import { listPendingInvitations } from "~/domain/workspaces/invitations.server";
import {
  findMembership,
  findWorkspaceBySlug,
  type Workspace,
} from "~/domain/workspaces/workspaces.server";
import {
  addMember,
  createVerifiedUser,
  createWorkspaceFor,
  findMail,
  type Browser,
  type TestUser,
} from "../support/accounts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { signInAll, startServer } from "../support/teams";
import { parseCsv } from "../support/csv";

/**
 * The workspace admin pages (settings, members, security, API keys, audit log and its CSV
 * export) through the real server, as a browser without JavaScript uses them. People and
 * workspaces are seeded through the domain functions in this process, which shares DATA_DIR
 * with the server; everyone signs in through the real /login form.
 */

const PAGES = [
  ["settings", "Workspace settings"],
  ["members", "Members"],
  ["security", "Security"],
  ["api-keys", "API keys"],
  ["audit", "Audit log"],
] as const;

function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

describe("workspace admin pages", () => {
  let server: TestServer;
  let owner: TestUser;
  let admin: TestUser;
  let viewer: TestUser;
  let marketer: TestUser;
  let otherOwner: TestUser;
  let alpha: Workspace;
  let bravo: Workspace;
  let fenced: Workspace;
  let handover: Workspace;
  let asOwner: Browser;
  let asAdmin: Browser;
  let asViewer: Browser;
  let bravoKeyId: string;

  beforeAll(async () => {
    // Seed first, then boot the server on the same data dir.
    owner = await createVerifiedUser({ name: "Olivia Owner" });
    admin = await createVerifiedUser({ name: "Adam Admin" });
    viewer = await createVerifiedUser({ name: "Vera Viewer" });
    marketer = await createVerifiedUser({ name: "Mark Marketer" });
    otherOwner = await createVerifiedUser({ name: "Priya Other" });
    alpha = createWorkspaceFor(owner, { slug: "alpha", name: "Alpha Traders" });
    bravo = createWorkspaceFor(otherOwner, { slug: "bravo", name: "Bravo Foods" });
    fenced = createWorkspaceFor(owner, { slug: "fenced", name: "Fenced Ltd" });
    handover = createWorkspaceFor(owner, { slug: "handover", name: "Handover Co" });
    await addMember(alpha, owner, admin, "admin");
    await addMember(alpha, owner, viewer, "viewer");
    await addMember(alpha, owner, marketer, "marketer");
    await addMember(handover, owner, admin, "admin");
    // Workspace B's own history, which A's audit export must never show.
    bravoKeyId = createApiKey(
      {
        actor: { type: "user", id: otherOwner.id },
        now: () => new Date(),
        request: { ip: "192.0.2.99", userAgent: "bravo-agent" },
        userId: otherOwner.id,
      },
      bravo.id,
      { name: "Bravo private key", role: "viewer" },
    ).id;

    server = await startServer({
      env: { TRUST_PROXY: "loopback" },
    });
    ({ asOwner, asAdmin, asViewer } = await signInAll(server, {
      asOwner: owner,
      asAdmin: admin,
      asViewer: viewer,
    }));
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("renders every admin page for the owner, with a heading, labels and scoped table headers", async () => {
    for (const [path, title] of PAGES) {
      const res = await asOwner.get(`/w/alpha/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("cache-control"), path).toBe("no-store");
      const html = await textOf(res);
      expect(html, path).toContain(`<h1>${title}</h1>`);
      expect(html, path).not.toMatch(/<th>/);
    }
    const settings = await textOf(await asOwner.get("/w/alpha/settings"));
    expect(settings).toContain("Default country for phone numbers");
    expect(settings).toMatch(/<option value="Asia\/Kolkata" selected="">/);
    expect(settings).toMatch(/<option value="INR" selected="">/);

    const members = await textOf(await asOwner.get("/w/alpha/members"));
    expect(members).toContain('<th scope="col">Two-factor</th>');
    expect(members).toMatch(/<th scope="row">Adam Admin<\/th>/);
    expect(members).toContain('name="intent" value="invite"');
    expect(members).toContain("Transfer ownership");
    // Each row's role select has its own label.
    expect(members).toContain(`for="role-${viewer.id}"`);

    const security = await textOf(await asOwner.get("/w/alpha/security"));
    expect(security).toContain('Your current address: <code class="ip">127.0.0.1</code>');
    expect(security).toContain("An empty list allows every address.");
    expect(security).toContain("Members must use two-factor authentication");
  });

  it("answers 404 for a workspace the user is not a member of", async () => {
    for (const [path] of PAGES) {
      expect((await asOwner.get(`/w/bravo/${path}`)).status, path).toBe(404);
    }
    expect((await asOwner.get("/w/bravo/audit.csv")).status).toBe(404);
  });

  it("lets a viewer read the members list but refuses every admin page and every action", async () => {
    const members = await textOf(await asViewer.get("/w/alpha/members"));
    expect(members).toContain("Adam Admin");
    expect(members).not.toContain("Send invitation");
    expect(members).not.toContain("Transfer ownership");
    expect(members).not.toContain("Pending invitations");

    for (const path of ["settings", "security", "api-keys", "audit", "audit.csv"]) {
      const res = await asViewer.get(`/w/alpha/${path}`);
      expect(res.status, path).toBe(403);
    }

    const keyId = createApiKey(
      { actor: { type: "user", id: owner.id }, now: () => new Date(), userId: owner.id },
      alpha.id,
      { name: "Viewer must not revoke", role: "viewer" },
    ).id;
    const attempts: [string, Record<string, string>][] = [
      ["settings", { name: "Hijacked", country: "US", timezone: "UTC", currency: "USD" }],
      ["members", { intent: "invite", email: "friend@example.com", role: "admin" }],
      ["members", { intent: "revoke-invitation", invitationId: "inv_x" }],
      ["members", { intent: "change-role", userId: viewer.id, role: "admin" }],
      ["members", { intent: "remove", userId: admin.id }],
      ["members", { intent: "transfer", userId: viewer.id, confirmSlug: "alpha" }],
      ["members", { intent: "no-such-thing" }],
      ["security", { intent: "add", cidr: "0.0.0.0/0", label: "all" }],
      ["security", { intent: "remove", entryId: "1" }],
      ["security", { intent: "mfa" }],
      ["api-keys", { intent: "create", name: "Viewer key", role: "admin" }],
      ["api-keys", { intent: "revoke", keyId }],
    ];
    for (const [path, fields] of attempts) {
      const res = await asViewer.post(`/w/alpha/${path}`, fields);
      expect(res.status, `${path} ${fields.intent ?? ""}`).toBe(403);
      expect(await textOf(res)).toContain("Access denied");
    }

    // Nothing changed.
    const workspace = findWorkspaceBySlug("alpha")!;
    expect(workspace.name).toBe("Alpha Traders");
    expect(workspace.currency).toBe("INR");
    expect(findMembership(alpha.id, viewer.id)?.role).toBe("viewer");
    expect(findMembership(alpha.id, admin.id)?.role).toBe("admin");
    expect(findMembership(alpha.id, owner.id)?.role).toBe("owner");
    expect(listPendingInvitations(alpha.id, new Date()).map((i) => i.email)).not.toContain(
      "friend@example.com",
    );
    expect(listAllowlist(alpha.id)).toEqual([]);
    const keys = listApiKeys(alpha.id).map((k) => k.name);
    expect(keys).toContain("Viewer must not revoke");
    expect(keys).not.toContain("Viewer key");
  });

  it("lets an admin manage members but not transfer ownership", async () => {
    const members = await textOf(await asAdmin.get("/w/alpha/members"));
    expect(members).toContain("Send invitation");
    expect(members).not.toContain("Transfer ownership");

    const res = await asAdmin.post("/w/alpha/members", {
      intent: "transfer",
      userId: admin.id,
      confirmSlug: "alpha",
    });
    expect(res.status).toBe(403);
    expect(findMembership(alpha.id, owner.id)?.role).toBe("owner");
    expect(findMembership(alpha.id, admin.id)?.role).toBe("admin");

    // Nor hand out the owner role by other means.
    const invite = await asAdmin.post("/w/alpha/members", {
      intent: "invite",
      email: "crown@example.com",
      role: "owner",
    });
    expect(invite.status).toBe(400);
    expect(await textOf(invite)).toContain("You can't give that role.");
    const promote = await asAdmin.post("/w/alpha/members", {
      intent: "change-role",
      userId: viewer.id,
      role: "owner",
    });
    expect(promote.status).toBe(400);
    expect(findMembership(alpha.id, viewer.id)?.role).toBe("viewer");
  });

  it("transfers ownership only after the owner types the workspace address", async () => {
    const wrong = await asOwner.post("/w/handover/members", {
      intent: "transfer",
      userId: admin.id,
      confirmSlug: "alpha",
    });
    expect(wrong.status).toBe(400);
    expect(await textOf(wrong)).toContain("Type handover exactly to confirm the transfer.");
    expect(findMembership(handover.id, owner.id)?.role).toBe("owner");

    const res = await asOwner.post("/w/handover/members", {
      intent: "transfer",
      userId: admin.id,
      confirmSlug: "handover",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/w/handover/members");
    expect(findMembership(handover.id, admin.id)?.role).toBe("owner");
    expect(findMembership(handover.id, owner.id)?.role).toBe("admin");
    // The former owner is an admin now: a second transfer is no longer theirs to make.
    const again = await asOwner.post("/w/handover/members", {
      intent: "transfer",
      userId: admin.id,
      confirmSlug: "handover",
    });
    expect(again.status).toBe(403);
  });

  it("invites by email: a pending invitation with its expiry, and a mail", async () => {
    const res = await asOwner.post("/w/alpha/members", {
      intent: "invite",
      email: "  New.Person@Example.com ",
      role: "marketer",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/w/alpha/members");

    const pending = listPendingInvitations(alpha.id, new Date());
    const invitation = pending.find((i) => i.email === "new.person@example.com");
    expect(invitation).toMatchObject({ role: "marketer" });
    const mail = await findMail("new.person@example.com", /invited you to Alpha Traders/);
    expect(mail).not.toBeNull();
    expect(mail!.text).toMatch(/\/invitations\/[A-Za-z0-9_-]+/);
    expect(existsSync(join(server.dataDir, "mail", `${mail!.id}.eml`))).toBe(true);

    const page = await textOf(await asOwner.get("/w/alpha/members"));
    expect(page).toContain('<th scope="row">new.person@example.com</th>');
    expect(page).toContain('<th scope="col">Expires</th>');

    const bad = await asOwner.post("/w/alpha/members", {
      intent: "invite",
      email: "not-an-email",
      role: "marketer",
    });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Enter a valid email address");
    expect(listPendingInvitations(alpha.id, new Date())).toHaveLength(pending.length);

    const revoked = await asOwner.post("/w/alpha/members", {
      intent: "revoke-invitation",
      invitationId: invitation!.id,
    });
    expect(revoked.status).toBe(302);
    expect(listPendingInvitations(alpha.id, new Date()).some((i) => i.id === invitation!.id)).toBe(
      false,
    );
    const missing = await asOwner.post("/w/alpha/members", {
      intent: "revoke-invitation",
      invitationId: invitation!.id,
    });
    expect(missing.status).toBe(404);
  });

  it("changes a role, and removes a member only from the confirmation step", async () => {
    const changed = await asOwner.post("/w/alpha/members", {
      intent: "change-role",
      userId: marketer.id,
      role: "agent",
    });
    expect(changed.status).toBe(302);
    expect(findMembership(alpha.id, marketer.id)?.role).toBe("agent");

    const confirm = await asOwner.get(`/w/alpha/members?remove=${marketer.id}`);
    expect(confirm.status).toBe(200);
    const html = await textOf(confirm);
    expect(html).toContain("Remove Mark Marketer?");
    expect(html).toContain('name="intent" value="remove"');
    expect(findMembership(alpha.id, marketer.id)).toBeDefined();

    const removed = await asOwner.post("/w/alpha/members", {
      intent: "remove",
      userId: marketer.id,
    });
    expect(removed.status).toBe(302);
    expect(findMembership(alpha.id, marketer.id)).toBeUndefined();

    const ownerRemoval = await asAdmin.post("/w/alpha/members", {
      intent: "remove",
      userId: owner.id,
    });
    expect(ownerRemoval.status).toBe(409);
    expect(await textOf(ownerRemoval)).toContain("Transfer ownership before removing the owner.");
    expect(findMembership(alpha.id, owner.id)?.role).toBe("owner");

    const unknown = await asOwner.post("/w/alpha/members", { intent: "explode" });
    expect(unknown.status).toBe(400);
  });

  it("saves general settings and explains bad values without changing anything", async () => {
    const bad = await asOwner.post("/w/alpha/settings", {
      name: "Alpha Traders",
      country: "IN",
      timezone: "Mars/Olympus_Mons",
      currency: "INR",
    });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Choose a time zone from the list.");
    const badCurrency = await asOwner.post("/w/alpha/settings", {
      name: "",
      country: "IN",
      timezone: "Asia/Kolkata",
      currency: "EUR",
    });
    expect(badCurrency.status).toBe(400);
    const text = await textOf(badCurrency);
    expect(text).toContain("Enter a name for the workspace.");
    expect(text).toContain("Choose INR or USD.");
    expect(findWorkspaceBySlug("alpha")).toMatchObject({
      timezone: "Asia/Kolkata",
      currency: "INR",
    });

    const ok = await asOwner.post("/w/alpha/settings", {
      name: "Alpha Traders",
      country: "US",
      timezone: "Asia/Kolkata",
      currency: "USD",
    });
    expect(ok.status).toBe(302);
    expect(ok.headers.get("location")).toBe("/w/alpha/settings");
    expect(findWorkspaceBySlug("alpha")).toMatchObject({ country: "US", currency: "USD" });
  });

  it("shows a new API key's secret once, stores only its hash, and revokes it", async () => {
    const res = await asOwner.post("/w/alpha/api-keys", {
      intent: "create",
      name: "CRM sync",
      role: "marketer",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    const secret = /pk_live_[A-Za-z0-9_-]{43}/.exec(html)?.[0];
    expect(secret).toBeDefined();
    expect(html).toContain("Copy this key now: it is shown only once.");
    expect(html).toContain(`<code>${secret}</code>`);

    const row = getControlDb()
      .$client.prepare("SELECT * FROM api_keys WHERE workspace_id = ? AND name = ?")
      .get(alpha.id, "CRM sync") as Record<string, unknown>;
    expect(row.key_hash).toBe(sha256Hex(secret!));
    expect(row.prefix).toBe(secret!.slice(0, 14));
    expect(Object.values(row)).not.toContain(secret);
    // Nowhere in the control database (or its WAL) does the secret itself appear.
    for (const file of ["control.db", "control.db-wal"]) {
      const path = join(server.dataDir, file);
      if (existsSync(path)) expect(readFileSync(path).includes(secret!), file).toBe(false);
    }
    // The key works, and the page never shows it again.
    expect(verifyApiKey(secret!, new Date())).toMatchObject({
      workspaceId: alpha.id,
      role: "marketer",
    });
    const later = await textOf(await asOwner.get("/w/alpha/api-keys"));
    expect(later).toContain("CRM sync");
    expect(later).toContain(`<code>${secret!.slice(0, 14)}…</code>`);
    expect(later).not.toContain(secret);

    const id = row.id as string;
    const confirm = await textOf(await asOwner.get(`/w/alpha/api-keys?revoke=${id}`));
    expect(confirm).toContain("Revoke “CRM sync”?");
    const revoked = await asOwner.post("/w/alpha/api-keys", { intent: "revoke", keyId: id });
    expect(revoked.status).toBe(302);
    expect(listApiKeys(alpha.id).some((k) => k.id === id)).toBe(false);
    expect(verifyApiKey(secret!, new Date())).toBeNull();
    expect(await textOf(await asOwner.get("/w/alpha/api-keys"))).not.toContain("CRM sync");

    const again = await asOwner.post("/w/alpha/api-keys", { intent: "revoke", keyId: id });
    expect(again.status).toBe(404);
    const otherWorkspaceKey = await asOwner.post("/w/alpha/api-keys", {
      intent: "revoke",
      keyId: bravoKeyId,
    });
    expect(otherWorkspaceKey.status).toBe(404);
    expect(verifyApiKey("pk_live_" + "x".repeat(43), new Date())).toBeNull();
    expect(listApiKeys(bravo.id).some((k) => k.id === bravoKeyId)).toBe(true);

    const nameless = await asOwner.post("/w/alpha/api-keys", {
      intent: "create",
      name: "  ",
      role: "viewer",
    });
    expect(nameless.status).toBe(400);
    expect(await textOf(nameless)).toContain("Name the key");
    const ownerKey = await asOwner.post("/w/alpha/api-keys", {
      intent: "create",
      name: "Root",
      role: "owner",
    });
    expect(ownerKey.status).toBe(400);
    expect(listApiKeys(alpha.id).some((k) => k.name === "Root")).toBe(false);
  });

  it("refuses an allowlist that would shut out the address making the change", async () => {
    const lockout = await asOwner.post("/w/fenced/security", {
      intent: "add",
      cidr: "10.0.0.0/8",
      label: "Wrong office",
    });
    expect(lockout.status).toBe(400);
    const html = await textOf(lockout);
    expect(html).toContain("This change would lock you out: your current IP address (127.0.0.1)");
    expect(listAllowlist(fenced.id)).toEqual([]);

    const invalid = await asOwner.post("/w/fenced/security", {
      intent: "add",
      cidr: "10.0.0.300",
    });
    expect(invalid.status).toBe(400);
    expect(await textOf(invalid)).toContain('"10.0.0.300" is not a valid IP address or CIDR range');
    expect(listAllowlist(fenced.id)).toEqual([]);
  });

  it("keeps IPv4 and IPv6 clients outside the allowlist out with a page that says why", async () => {
    const office = { "x-forwarded-for": "203.0.113.7" };
    const page = await textOf(await asOwner.get("/w/fenced/security", office));
    expect(page).toContain('Your current address: <code class="ip">203.0.113.7</code>');

    const v4 = await asOwner.post(
      "/w/fenced/security",
      { intent: "add", cidr: "203.0.113.0/24", label: "Mumbai office" },
      office,
    );
    expect(v4.status).toBe(302);
    const v6 = await asOwner.post(
      "/w/fenced/security",
      { intent: "add", cidr: "2001:DB8:1::/48", label: "VPN" },
      office,
    );
    expect(v6.status).toBe(302);
    expect(listAllowlist(fenced.id).map((e) => [e.cidr, e.label])).toEqual([
      ["203.0.113.0/24", "Mumbai office"],
      ["2001:db8:1::/48", "VPN"],
    ]);

    for (const outside of ["198.51.100.77", "2001:db8:ffff::9"]) {
      const res = await asOwner.get("/w/fenced/settings", { "x-forwarded-for": outside });
      expect(res.status, outside).toBe(403);
      const text = await textOf(res);
      expect(text).toContain("Access denied");
      expect(text).toContain(
        `This workspace only accepts connections from approved networks, and your address (${outside}) is not one of them.`,
      );
      // Actions are refused the same way, before anything changes.
      const post = await asOwner.post(
        "/w/fenced/security",
        { intent: "add", cidr: `${outside.includes(":") ? outside + "/128" : outside}` },
        { "x-forwarded-for": outside },
      );
      expect(post.status, outside).toBe(403);
    }
    for (const inside of ["203.0.113.50", "2001:db8:1::5"]) {
      const res = await asOwner.get("/w/fenced/settings", { "x-forwarded-for": inside });
      expect(res.status, inside).toBe(200);
    }
    // Other workspaces keep their own (empty) list.
    expect(
      (await asOwner.get("/w/alpha/settings", { "x-forwarded-for": "198.51.100.77" })).status,
    ).toBe(200);

    // Removing the entry that covers the person removing it is refused too.
    const ipv4Entry = listAllowlist(fenced.id).find((e) => e.cidr === "203.0.113.0/24")!;
    const selfRemoval = await asOwner.post(
      "/w/fenced/security",
      { intent: "remove", entryId: String(ipv4Entry.id) },
      office,
    );
    expect(selfRemoval.status).toBe(400);
    expect(await textOf(selfRemoval)).toContain("would lock you out");
    expect(listAllowlist(fenced.id)).toHaveLength(2);

    // From inside the IPv6 range, the IPv4 entry can go.
    const removed = await asOwner.post(
      "/w/fenced/security",
      { intent: "remove", entryId: String(ipv4Entry.id) },
      { "x-forwarded-for": "2001:db8:1::5" },
    );
    expect(removed.status).toBe(302);
    expect(listAllowlist(fenced.id).map((e) => e.cidr)).toEqual(["2001:db8:1::/48"]);
    const notANumber = await asOwner.post(
      "/w/fenced/security",
      { intent: "remove", entryId: "one" },
      { "x-forwarded-for": "2001:db8:1::5" },
    );
    expect(notANumber.status).toBe(400);
  });

  it("won't require two-factor authentication from someone who hasn't turned it on", async () => {
    const res = await asOwner.post("/w/alpha/security", { intent: "mfa", requireMfa: "on" });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain(
      "Turn on two-factor authentication for your own account first",
    );
    expect(findWorkspaceBySlug("alpha")!.requireMfa).toBe(false);
    const optional = await asOwner.post("/w/alpha/security", { intent: "mfa" });
    expect(optional.status).toBe(302);
    expect(findWorkspaceBySlug("alpha")!.requireMfa).toBe(false);
  });

  it("escapes CSV cells that a spreadsheet would run as formulas", () => {
    expect(csvCell("=1+2")).toBe("'=1+2");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-1")).toBe("'-1");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\t=1")).toBe("'\t=1");
    expect(csvCell("\r=1")).toBe('"\'\r=1"');
    expect(csvCell('say "hi", then go')).toBe('"say ""hi"", then go"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell(null)).toBe("");
  });

  it("exports the filtered audit log as safe CSV, and audits the export", async () => {
    const formula = '=HYPERLINK("http://evil.example","click")';
    const created = await asOwner.post(
      "/w/alpha/api-keys",
      { intent: "create", name: 'Export, "quoted" key', role: "viewer" },
      { "user-agent": formula },
    );
    expect(created.status).toBe(200);

    const res = await asOwner.get("/w/alpha/audit.csv?action=api_key.");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="audit-alpha-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const body = await res.text();
    const rows = parseCsv(body);
    expect(rows[0]).toEqual([...AUDIT_CSV_COLUMNS]);
    const events = rows.slice(1);
    expect(events.length).toBeGreaterThan(0);
    for (const row of events) {
      expect(row).toHaveLength(AUDIT_CSV_COLUMNS.length);
      expect(row[3]).toMatch(/^api_key\./);
      expect(new Date(row[0]!).toISOString()).toBe(row[0]);
    }
    const mine = events.find((r) => r[7] === `'${formula}`);
    expect(mine).toBeDefined();
    expect(mine!.slice(1, 4)).toEqual(["user", owner.id, "api_key.created"]);
    expect(mine![6]).toBe("127.0.0.1");
    expect(JSON.parse(mine![8]!)).toMatchObject({ name: 'Export, "quoted" key' });
    // The raw line never starts a cell with "=".
    expect(body).not.toMatch(/(^|,)"?=/m);

    const exports = listAuditEvents(
      { workspaceId: alpha.id, action: "audit.exported" },
      { limit: 5 },
    ).rows;
    expect(exports[0]).toMatchObject({ actorType: "user", actorId: owner.id, ip: "127.0.0.1" });
    expect(JSON.parse(exports[0]!.details!)).toEqual({
      format: "csv",
      filters: { action: "api_key.", from: null, to: null },
    });

    const auditPage = await textOf(await asOwner.get("/w/alpha/audit?action=audit."));
    expect(auditPage).toContain("<code>audit.exported</code>");
    expect(auditPage).toContain("Olivia Owner (");
    expect(auditPage).toContain("Times are in Asia/Kolkata");
    expect(auditPage).toContain('href="/w/alpha/audit.csv?action=audit."');
  });

  it("never puts another workspace's events in a workspace's export", async () => {
    const body = await (await asOwner.get("/w/alpha/audit.csv")).text();
    const rows = parseCsv(body).slice(1);
    expect(rows.some((r) => r[3] === "workspace.created" && r[5] === alpha.id)).toBe(true);
    expect(body).not.toContain(bravo.id);
    expect(body).not.toContain(bravoKeyId);
    expect(body).not.toContain("Bravo private key");
    expect(body).not.toContain("bravo-agent");
    expect(body).not.toContain(otherOwner.id);
    // And B's own log has those rows: the filter, not a lack of data, keeps them out.
    const bravoRows = listAuditEvents({ workspaceId: bravo.id }, { limit: 50 }).rows;
    expect(bravoRows.some((r) => r.targetId === bravoKeyId)).toBe(true);
  });

  it("pages the audit log 50 at a time, newest first, in the workspace's time zone", async () => {
    const ctx = {
      actor: { type: "system" as const, id: "test-paging" },
      now: () => new Date(),
    };
    for (let i = 0; i < 60; i++) {
      recordAudit(ctx, {
        action: "workspace.paging_probe",
        workspaceId: alpha.id,
        details: { n: i },
      });
    }
    // Only the table: the page's embedded loader data holds the same rows again.
    const rowIds = (html: string) =>
      [.../<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!.matchAll(/"n":(\d+)/g)].map((m) =>
        Number(m[1]),
      );
    const first = await textOf(await asOwner.get("/w/alpha/audit?action=workspace."));
    const firstRows = first.match(/<th scope="row"><time/g) ?? [];
    expect(firstRows).toHaveLength(50);
    expect(rowIds(first).slice(0, 3)).toEqual([59, 58, 57]);
    expect(first).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} GMT\+5:30/);
    const older = /href="(\/w\/alpha\/audit\?action=workspace\.&before=\d+)"/.exec(first)?.[1];
    expect(older).toBeDefined();

    const second = await textOf(await asOwner.get(older!));
    const secondIds = rowIds(second);
    expect(secondIds.slice(0, 10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(new Set([...rowIds(first), ...secondIds]).size).toBe(60);
    expect(second).toContain(">Newest</a>");

    // Date filters are whole days in the workspace's zone.
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(new Date());
    const todays = await textOf(
      await asOwner.get(`/w/alpha/audit?action=workspace.&from=${today}&to=${today}`),
    );
    expect(todays.match(/<th scope="row"><time/g)).toHaveLength(50);
    const longAgo = await textOf(await asOwner.get("/w/alpha/audit?from=2001-01-01&to=2001-01-31"));
    expect(longAgo).toContain("No events match these filters");
  });

  it("answers a bad filter with a 400 that says what to fix", async () => {
    const page = await asOwner.get("/w/alpha/audit?action=drop.table&from=2026-02-30");
    expect(page.status).toBe(400);
    const text = await textOf(page);
    expect(text).toContain("Choose a kind of event from the list.");
    expect(text).toContain("Enter the start date as YYYY-MM-DD");

    const backwards = await asOwner.get("/w/alpha/audit?from=2026-06-10&to=2026-06-01");
    expect(backwards.status).toBe(400);
    expect(await textOf(backwards)).toContain("The end date is before the start date.");

    const before = await asOwner.get("/w/alpha/audit?before=abc");
    expect(before.status).toBe(400);

    const exportsBefore = listAuditEvents(
      { workspaceId: alpha.id, action: "audit.exported" },
      { limit: 100 },
    ).rows.length;
    const csv = await asOwner.get("/w/alpha/audit.csv?to=yesterday");
    expect(csv.status).toBe(400);
    expect(await csv.text()).toContain("Enter the end date as YYYY-MM-DD");
    // A refused export is not recorded as an export.
    expect(
      listAuditEvents({ workspaceId: alpha.id, action: "audit.exported" }, { limit: 100 }).rows,
    ).toHaveLength(exportsBefore);
  });

  it("answered every bad request above with a 4xx, never an unhandled error", async () => {
    await new Promise((r) => setTimeout(r, 100));
    const statuses = server.logs.filter((l) => l.msg === "request").map((l) => l.status);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => typeof s === "number" && s >= 500)).toEqual([]);
    expect(server.logs.filter((l) => l.msg === "unhandled route error")).toEqual([]);
  });
});
