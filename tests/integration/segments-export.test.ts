import { and, eq } from "drizzle-orm";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { contactExports } from "~/db/schema/tenant";
import { createContact } from "~/domain/contacts/contacts.server";
import type { WorkspaceContext } from "~/domain/context";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import { addToList, defineAttribute, giveConsent, listId, tagContact } from "../support/contacts";
import { runCli, type TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";
import { parseCsv } from "../support/csv";

/**
 * Segments and contact exports through the real server, as a browser without JavaScript uses
 * them: build a segment with form posts (add, change, remove conditions), check the live count
 * endpoint the builder's fetcher uses, save, export the segment in the worker thread, download
 * the CSV with the signed link, and the locks on that link. Contacts are seeded in this process
 * through the contacts domain, on the DATA_DIR the server shares.
 */

function records(csv: string[][]): Record<string, string>[] {
  const [header, ...rows] = csv;
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ""])));
}

function auditRows(workspaceId: string, action: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, action)))
    .all();
}

describe("segments and exports through the server", () => {
  let server: TestServer;
  let owner: TestUser;
  let viewer: TestUser;
  let marketer: TestUser;
  let agent: TestUser;
  let stranger: TestUser;
  let acme: Workspace;
  let theirs: Workspace;
  let ctx: WorkspaceContext;
  let asOwner: Browser;
  let asViewer: Browser;
  let asMarketer: Browser;
  let asAgent: Browser;
  let asStranger: Browser;
  const ids: Record<string, number> = {};
  let segmentId = 0;
  let downloadUrl = "";

  /** The builder's fields for "WhatsApp consent granted AND city equals <city>". */
  function builderFields(city: string): Record<string, string> {
    return {
      name: "Mumbai on WhatsApp",
      "r.op": "and",
      "r-0.field": "consent",
      "r-0.channel": "whatsapp",
      "r-0.op": "granted",
      "r-1.field": "attribute:city",
      "r-1.op": "equals",
      "r-1.value": city,
    };
  }

  beforeAll(async () => {
    const team = await makeTeam({
      owner: "Olga Owner",
      workspace: { slug: "acme-seg", name: "Acme Segments" },
      members: {
        viewer: { name: "Vik Viewer", role: "viewer" },
        marketer: { name: "Mira Marketer", role: "marketer" },
        agent: { name: "Ari Agent", role: "agent" },
      },
    });
    ({ owner, workspace: acme } = team);
    ({ viewer, marketer, agent } = team.members);
    ({ owner: stranger, workspace: theirs } = await makeTeam({
      owner: "Sam Stranger",
      workspace: { slug: "theirs-seg", name: "Theirs" },
    }));

    // The audit rows of what is seeded here carry this address.
    ctx = openWorkspaceContext(acme.id, { type: "user", id: owner.id }, { ip: "198.51.100.7" });
    defineAttribute(ctx.db, "city", "text");
    const add = (name: string, input: Parameters<typeof createContact>[1]) => {
      ids[name] = createContact(ctx, input).id;
    };
    add("asha", {
      name: "Asha Rao",
      email: "Asha@Example.com",
      phone: "98765 43210",
      attributes: { city: "Mumbai" },
    });
    add("formula", {
      name: '=HYPERLINK("http://evil.example","click")',
      email: "formula@example.com",
      attributes: { city: "@SUM(1+1)" },
    });
    add("chen", { name: "Chen Wei", phone: "+65 9123 4567", attributes: { city: "Singapore" } });
    add("dev", { name: "-Dev", email: "dev@example.com", attributes: { city: "mumbai" } });
    giveConsent(ctx.db, ids.asha!, "whatsapp", "granted", "signed up on website form");
    giveConsent(ctx.db, ids.chen!, "whatsapp", "granted", "=cmd|' /C calc'!A0");
    giveConsent(ctx.db, ids.dev!, "email", "withdrawn", "replied STOP");
    tagContact(ctx.db, ids.asha!, "Diwali");
    addToList(ctx.db, ids.asha!, "Newsletter");
    addToList(ctx.db, ids.formula!, "Newsletter");

    server = await startServer();
    ({ asOwner, asViewer, asMarketer, asAgent, asStranger } = await signInAll(server, {
      asOwner: owner,
      asViewer: viewer,
      asMarketer: marketer,
      asAgent: agent,
      asStranger: stranger,
    }));
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("builds a segment with form posts alone (no JavaScript)", async () => {
    const page = `/w/${acme.slug}/segments/new`;
    const empty = await textOf(await asOwner.get(page));
    expect(empty).toContain("No conditions yet: this segment matches every contact.");
    expect(empty).toContain("4 contacts match");

    // Add a condition: it starts as "Email consent granted".
    let res = await asOwner.post(page, { "r.op": "and", intent: "add-condition:r" });
    expect(res.status).toBe(200);
    let html = await textOf(res);
    expect(html).toContain('name="r-0.field"');
    expect(html).toContain("0 contacts match");

    // Switch it to WhatsApp, add a second condition and point it at the city attribute.
    res = await asOwner.post(page, {
      "r.op": "and",
      "r-0.field": "consent",
      "r-0.channel": "whatsapp",
      "r-0.op": "granted",
      intent: "add-condition:r",
    });
    html = await textOf(res);
    expect(html).toContain('name="r-1.field"');
    res = await asOwner.post(page, {
      ...builderFields(""),
      "r-1.op": "granted", // stale operator from the previous field: the page fixes it
      intent: "update",
    });
    html = await textOf(res);
    expect(res.status).toBe(400);
    expect(html).toContain("Enter a value to compare with.");
    expect(html).toMatch(/<option value="equals" selected="">equals<\/option>/);

    // A value: the count is server-rendered.
    res = await asOwner.post(page, { ...builderFields("MUMBAI"), intent: "update" });
    expect(res.status).toBe(200);
    html = await textOf(res);
    expect(html).toContain("1 contact matches");
    expect(html).toContain("Asha Rao");

    // A nested OR group, then removed again.
    res = await asOwner.post(page, { ...builderFields("Mumbai"), intent: "add-group:r" });
    html = await textOf(res);
    expect(html).toContain('name="r-2.field" value="group"');
    expect(html).toContain('name="r-2-0.field"');
    res = await asOwner.post(page, {
      ...builderFields("Mumbai"),
      "r-2.field": "group",
      "r-2.op": "or",
      "r-2-0.field": "consent",
      "r-2-0.channel": "email",
      "r-2-0.op": "granted",
      intent: "remove:r-2",
    });
    html = await textOf(res);
    expect(html).not.toContain('name="r-2.field"');
    expect(html).toContain("1 contact matches");
  });

  it("answers the live count endpoint with the right number, and clear 400s", async () => {
    const url = `/w/${acme.slug}/segments/count`;
    let res = await asOwner.post(url, builderFields("mumbai"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ count: 1 });

    const definition = {
      op: "or",
      conditions: [
        { type: "attribute", key: "city", op: "contains", value: "mumbai" },
        { type: "country", op: "is", country: "SG" },
      ],
    };
    res = await asViewer.get(`${url}?definition=${encodeURIComponent(JSON.stringify(definition))}`);
    expect(await res.json()).toEqual({ count: 3 });
    res = await asOwner.get(url);
    expect(await res.json()).toEqual({ count: 4 });

    res = await asOwner.post(url, {
      definition: JSON.stringify({
        op: "and",
        conditions: [{ type: "attribute", key: "shoe_size", op: "eq", value: 42 }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: "There is no attribute “shoe_size” in this workspace.",
      errors: { "r-0": ["There is no attribute “shoe_size” in this workspace."] },
    });
    res = await asOwner.post(url, { definition: "{oops" });
    expect(res.status).toBe(400);
    expect((await res.json()) as unknown).toEqual({
      message: "The segment definition is not valid JSON.",
      errors: {},
    });
    res = await asOwner.post(url, { ...builderFields("Mumbai"), "r-1.value": "x' OR 1=1 --" });
    expect(await res.json()).toEqual({ count: 0 });
    expect((await asOwner.get(`${url}?segmentId=999`)).status).toBe(404);
  });

  it("saves the segment, lists it with its count, and refuses bad saves with 4xx", async () => {
    const page = `/w/${acme.slug}/segments/new`;
    const bad = await asOwner.post(page, {
      ...builderFields("Mumbai"),
      "r-1.field": "attribute:shoe_size",
      intent: "save",
    });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Fix the conditions marked below, then save.");

    const unnamed = await asOwner.post(page, {
      ...builderFields("Mumbai"),
      name: " ",
      intent: "save",
    });
    expect(unnamed.status).toBe(400);
    expect(await textOf(unnamed)).toContain("Give the segment a name.");

    const viewerSave = await asViewer.post(`/w/${acme.slug}/segments/new`, {
      ...builderFields("Mumbai"),
      intent: "save",
    });
    expect(viewerSave.status).toBe(403);

    const saved = await asOwner.post(page, { ...builderFields("Mumbai"), intent: "save" });
    expect(saved.status).toBe(302);
    const location = saved.headers.get("location") ?? "";
    expect(location).toMatch(new RegExp(`^/w/${acme.slug}/segments/\\d+$`));
    segmentId = Number(location.split("/").pop());

    const show = await textOf(await asOwner.get(location));
    expect(show).toContain("Mumbai on WhatsApp");
    expect(show).toContain("1 contact matches");

    const list = await textOf(await asViewer.get(`/w/${acme.slug}/segments`));
    expect(list).toContain("Mumbai on WhatsApp");
    expect(list).toMatch(new RegExp(`data-testid="segment-count-${segmentId}">1</td>`));
    expect(list).toContain("WhatsApp consent granted and City equals “Mumbai”");

    const duplicate = await asOwner.post(page, { ...builderFields("Pune"), intent: "save" });
    expect(duplicate.status).toBe(400);
    expect(await textOf(duplicate)).toContain(
      "There is already a segment called “Mumbai on WhatsApp”. Choose another name.",
    );
    expect((await asOwner.get(`/w/${acme.slug}/segments/${segmentId + 100}`)).status).toBe(404);
    expect((await asOwner.get(`/w/${acme.slug}/segments/abc`)).status).toBe(404);

    expect(auditRows(acme.id, "segment.created")).toHaveLength(1);
  });

  it("exports the segment in a worker and downloads the CSV with the signed link", async () => {
    const page = `/w/${acme.slug}/contacts/export`;
    const form = await textOf(await asOwner.get(`${page}?scope=segment:${segmentId}`));
    expect(form).toMatch(new RegExp(`<option value="segment:${segmentId}" selected="">`));

    const started = await asOwner.post(page, { intent: "start", scope: `segment:${segmentId}` });
    expect(started.status).toBe(302);

    let html = "";
    for (let i = 0; i < 100; i++) {
      html = await textOf(await asOwner.get(page));
      if (html.includes("Download CSV")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const href = /href="([^"]+\/contacts\/export\/exp_[0-9a-z]{16}\?token=[^"]+)"/.exec(html)?.[1];
    expect(href, html.slice(0, 2000)).toBeTruthy();
    downloadUrl = href!;

    const res = await asOwner.get(downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="contacts-acme-seg-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const rows = records(parseCsv(await res.text()));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: String(ids.asha),
      name: "Asha Rao",
      email: "asha@example.com",
      phone: "'+919876543210",
      country: "IN",
      tags: "Diwali",
      lists: "Newsletter",
      whatsapp_consent: "granted",
      whatsapp_consent_source: "signed up on website form",
      email_consent: "",
      city: "Mumbai",
    });
    expect(rows[0]!.whatsapp_consent_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const audits = auditRows(acme.id, "contacts.exported");
    expect(audits).toHaveLength(1);
    expect(JSON.parse(audits[0]!.details!)).toEqual({
      scope: `segment:${segmentId}`,
      rows: 1,
      format: "csv",
    });
    expect(audits[0]!.details).not.toContain("asha");
    expect(auditRows(acme.id, "contacts.export_downloaded")).toHaveLength(1);
  });

  it("escapes formulas and includes every attribute and consent column in a full export", async () => {
    const page = `/w/${acme.slug}/contacts/export`;
    expect((await asMarketer.post(page, { intent: "start", scope: "all" })).status).toBe(302);
    let href: string | undefined;
    for (let i = 0; i < 100 && !href; i++) {
      const html = await textOf(await asMarketer.get(page));
      const row = /<tr data-export-id="(exp_[0-9a-z]{16})">[\s\S]*?<\/tr>/.exec(html)?.[0] ?? "";
      if (row.includes("All contacts")) href = /href="([^"]+)"/.exec(row)?.[1];
      if (!href) await new Promise((r) => setTimeout(r, 100));
    }
    expect(href).toBeTruthy();
    const csv = parseCsv(await (await asMarketer.get(href!)).text());
    expect(csv[0]).toEqual([
      "id",
      "name",
      "email",
      "phone",
      "country",
      "tags",
      "lists",
      "created_at",
      "updated_at",
      "email_consent",
      "email_consent_source",
      "email_consent_at",
      "whatsapp_consent",
      "whatsapp_consent_source",
      "whatsapp_consent_at",
      "sms_consent",
      "sms_consent_source",
      "sms_consent_at",
      "telegram_consent",
      "telegram_consent_source",
      "telegram_consent_at",
      "city",
    ]);
    const byId = new Map(records(csv).map((r) => [Number(r.id), r]));
    expect(byId.size).toBe(4);
    expect(byId.get(ids.formula!)).toMatchObject({
      name: `'=HYPERLINK("http://evil.example","click")`,
      city: "'@SUM(1+1)",
      lists: "Newsletter",
    });
    expect(byId.get(ids.dev!)).toMatchObject({
      name: "'-Dev",
      email_consent: "withdrawn",
      city: "mumbai",
    });
    expect(byId.get(ids.chen!)).toMatchObject({
      phone: "'+6591234567",
      country: "SG",
      whatsapp_consent_source: "'=cmd|' /C calc'!A0",
    });
  });

  it("lets only owners, admins and marketers export: agents and viewers get 403", async () => {
    const page = `/w/${acme.slug}/contacts/export`;
    const owners = new URL(downloadUrl, server.url);
    const download = `${owners.pathname}${owners.search}`;
    for (const browser of [asAgent, asViewer]) {
      expect((await browser.get(page)).status).toBe(403);
      expect((await browser.post(page, { intent: "start", scope: "all" })).status).toBe(403);
      expect((await browser.get(download)).status).toBe(403);
      // Nor do the pages that link to it offer the export.
      const contacts = await textOf(await browser.get(`/w/${acme.slug}/contacts`));
      expect(contacts).not.toContain(`${page}"`);
    }
    const segments = await textOf(await asViewer.get(`/w/${acme.slug}/segments`));
    expect(segments).not.toContain("/contacts/export");
    expect((await asMarketer.get(download)).status).toBe(200);
    expect((await asMarketer.get(page)).status).toBe(200);
  });

  it("locks the link: token, expiry, membership and workspace", async () => {
    const url = new URL(downloadUrl, server.url);
    const path = url.pathname;
    const token = url.searchParams.get("token")!;
    const exportId = path.split("/").pop()!;

    expect((await asOwner.get(path)).status).toBe(404);
    expect((await asOwner.get(`${path}?token=${token.slice(0, -2)}xx`)).status).toBe(404);
    expect(
      (await asOwner.get(`/w/${acme.slug}/contacts/export/exp_0000000000000000?token=${token}`))
        .status,
    ).toBe(404);

    // Signed in, but not a member of Acme: the workspace itself is not found.
    expect((await asStranger.get(downloadUrl)).status).toBe(404);
    // Their own workspace doesn't hold Acme's export, even with Acme's token.
    const viaTheirs = await asStranger.get(
      `/w/${theirs.slug}/contacts/export/${exportId}?token=${encodeURIComponent(token)}`,
    );
    expect(viaTheirs.status).toBe(404);
    // Not signed in at all: sent to sign in.
    const anonymous = await server.fetch(downloadUrl);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toMatch(/^\/login\?redirectTo=/);

    // A day later the link has expired: 410 Gone, and the page stops offering it.
    ctx.db
      .update(contactExports)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(contactExports.id, exportId))
      .run();
    const expired = await asOwner.get(downloadUrl);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain("This download link has expired. Start a new export.");
    const page = await textOf(await asOwner.get(`/w/${acme.slug}/contacts/export`));
    expect(page).not.toContain(exportId + "?token");
    expect(page).toContain("Expired");
    const row = ctx.db.select().from(contactExports).where(eq(contactExports.id, exportId)).get();
    expect(row?.filePath).toBeNull();
  });

  it("refuses an export of something that isn't there with a 400, not a 500", async () => {
    const page = `/w/${acme.slug}/contacts/export`;
    for (const scope of ["segment:9999", "list:9999", "everything", ""]) {
      const res = await asOwner.post(page, { intent: "start", scope });
      expect(res.status, scope).toBe(400);
      expect(await textOf(res)).toMatch(/no longer exists|Choose what to export/);
    }
  });

  it("exports from the command line by segment and list name", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "engage-export-")), "mumbai.csv");
    const bySegment = await runCli(
      [
        "contacts",
        "export",
        "--workspace",
        acme.slug,
        "--out",
        out,
        "--segment",
        "mumbai ON whatsapp",
      ],
      { DATA_DIR: process.env.DATA_DIR!, LOG_LEVEL: "warn" },
    );
    expect(bySegment.code, bySegment.stderr).toBe(0);
    expect(bySegment.json).toEqual([{ rows: 1, file: out }]);
    expect(records(parseCsv(readFileSync(out, "utf8")))[0]?.email).toBe("asha@example.com");

    const byList = await runCli(
      ["contacts", "export", "--workspace", acme.slug, "--out", out, "--list", "newsletter"],
      { DATA_DIR: process.env.DATA_DIR! },
    );
    expect(byList.json).toEqual([{ rows: 2, file: out }]);

    const missing = await runCli(
      ["contacts", "export", "--workspace", acme.slug, "--out", out, "--segment", "nope"],
      { DATA_DIR: process.env.DATA_DIR! },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("error: Segment “nope” not found");
    const both = await runCli(
      [
        "contacts",
        "export",
        "--workspace",
        acme.slug,
        "--out",
        out,
        "--list",
        "a",
        "--segment",
        "b",
      ],
      { DATA_DIR: process.env.DATA_DIR! },
    );
    expect(both.code).toBe(2);
    const cliAudits = auditRows(acme.id, "contacts.exported").filter((r) => r.actorType === "cli");
    const newsletter = listId(ctx.db, "Newsletter");
    expect(cliAudits.map((r) => JSON.parse(r.details!).scope as string).sort()).toEqual(
      [`list:${newsletter}`, `segment:${segmentId}`].sort(),
    );
  });
});
