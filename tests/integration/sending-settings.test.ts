import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, usageDaily, workspaces } from "~/db/schema/control";
import { listMembers, lists, prices } from "~/db/schema/tenant";
import { recordAiUsage } from "~/domain/ai/usage.server";
import {
  cancelCampaign,
  createCampaign,
  priceTable,
  reviewCampaign,
  type CampaignContext,
} from "~/domain/campaigns/campaigns.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import { giveConsent, insertContact } from "../support/contacts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * Settings → Sending & usage through the real server, as a browser without JavaScript: the
 * approval threshold, the price table (edit, add a country, reset), who may change them, and
 * the usage numbers and their CSV.
 */

const slug = "sending-settings";
const otherSlug = "sending-settings-other";
const page = `/w/${slug}/settings/sending`;

let server: TestServer;
let owner: TestUser;
let workspace: Workspace;
let other: Workspace;
let ctx: CampaignContext;
let alice: Browser;
let marketer: Browser;
let viewer: Browser;
let agent: Browser;

function threshold(): number | null {
  return (
    getControlDb()
      .select({ t: workspaces.approvalThreshold })
      .from(workspaces)
      .where(eq(workspaces.id, workspace.id))
      .get()?.t ?? null
  );
}

function price(channel: string, unit: string, country: string): number | undefined {
  return priceTable(ctx).find(
    (p) => p.channel === channel && p.unit === unit && p.country === country,
  )?.priceMinor;
}

/** The value attribute of the input with this accessible name. */
function inputValue(html: string, label: string): string | null {
  const input = new RegExp(`<input[^>]*aria-label="${label.replace(/[*]/g, "\\*")}"[^>]*>`).exec(
    html,
  )?.[0];
  return input ? (/value="([^"]*)"/.exec(input)?.[1] ?? null) : null;
}

function today(offsetDays = 0): string {
  return new Date(Date.now() + offsetDays * 24 * 60 * 60_000).toISOString().slice(0, 10);
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Sona Owner",
    workspace: { slug, name: "Sending Settings Co" },
    members: {
      marketer: { name: "Mira Marketer", role: "marketer" },
      viewer: { name: "Vik Viewer", role: "viewer" },
      agent: { name: "Anu Agent", role: "agent" },
    },
  });
  ({ owner, workspace } = team);
  ({ workspace: other } = await makeTeam({
    owner: "Otto Outsider",
    workspace: { slug: otherSlug, name: "Other Shop" },
  }));
  ctx = {
    ...team.ctx,
    userId: owner.id,
  };
  server = await startServer();
  ({ alice, marketer, viewer, agent } = await signInAll(server, {
    alice: owner,
    ...team.members,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("approval threshold", () => {
  it("starts with no approval and saves a threshold", async () => {
    let html = await textOf(await alice.get(page));
    expect(html).toContain("No campaign needs a second approval.");
    expect(html).toContain('name="approvalThreshold"');

    const res = await alice.post(page, { intent: "threshold", approvalThreshold: "2,500" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(page);
    expect(threshold()).toBe(2500);
    html = await textOf(await alice.get(page));
    expect(html).toContain("Campaigns to more than 2,500 recipients wait");
  });

  it("refuses a bad threshold with a message and keeps the old one", async () => {
    for (const value of ["0", "12.5", "lots"]) {
      const res = await alice.post(page, { intent: "threshold", approvalThreshold: value });
      expect(res.status).toBe(400);
      const html = await textOf(res);
      expect(html).toMatch(/Use 1 or more|Enter a whole number of recipients/);
      expect(html).toContain(`value="${value}"`);
    }
    expect(threshold()).toBe(2500);
  });

  it("blank turns approval off", async () => {
    expect((await alice.post(page, { intent: "threshold", approvalThreshold: "" })).status).toBe(
      302,
    );
    expect(threshold()).toBeNull();
    const audit = getControlDb()
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.workspaceId, workspace.id),
          eq(auditLog.action, "workspace.approval_threshold_changed"),
        ),
      )
      .all()
      .map((e) => JSON.parse(e.details!) as unknown);
    expect(audit).toEqual([
      { from: null, to: 2500 },
      { from: 2500, to: null },
    ]);
  });
});

describe("price table", () => {
  it("lists the INR defaults with a labelled input per price", async () => {
    const html = await textOf(await alice.get(page));
    expect(inputValue(html, "SMS price for IN per segment")).toBe("0.20");
    expect(inputValue(html, "WhatsApp price for IN per marketing message")).toBe("0.88");
    expect(inputValue(html, "WhatsApp price for other countries per marketing message")).toBe(
      "6.00",
    );
    expect(html).toContain("Price (INR)");
    expect(html).not.toContain("Reset all prices to defaults");
    expect(ctx.db.select().from(prices).all()).toHaveLength(0);
  });

  it("saves prices, which the campaign review then uses", async () => {
    const listId = ctx.db
      .insert(lists)
      .values({ name: "Review", createdAt: new Date() })
      .returning({ id: lists.id })
      .get().id;
    for (const phone of ["+919810000001", "+919810000002"]) {
      const id = insertContact(ctx.db, { name: phone, phone, country: "IN" });
      giveConsent(ctx.db, id, "whatsapp", "granted");
      ctx.db.insert(listMembers).values({ listId, contactId: id, addedAt: new Date() }).run();
    }
    const campaign = createCampaign(ctx, {
      name: "Cost",
      channel: "whatsapp",
      audience: { type: "list", id: listId },
      variants: [{ key: "A", templateId: 1 }],
      schedule: { type: "now" },
    });
    const review = () =>
      reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 }).cost;
    expect(review().totalMinor).toBe(2 * 88);

    const res = await alice.post(page, {
      intent: "prices",
      "whatsapp:MARKETING:IN": "1.10",
      "sms:segment:IN": "0.35",
      "sms:segment:*": "5.00",
    });
    expect(res.status).toBe(302);
    expect(price("whatsapp", "MARKETING", "IN")).toBe(110);
    expect(price("sms", "segment", "IN")).toBe(35);
    expect(price("whatsapp", "UTILITY", "IN")).toBe(12); // a default, copied in
    expect(review()).toMatchObject({ currency: "INR", totalMinor: 220 });
    cancelCampaign(ctx, campaign.id);

    const html = await textOf(await alice.get(page));
    expect(inputValue(html, "WhatsApp price for IN per marketing message")).toBe("1.10");
    expect(html).toContain("Reset all prices to defaults");
  });

  it("refuses bad amounts with a message per price and saves none of them", async () => {
    const res = await alice.post(page, {
      intent: "prices",
      "whatsapp:MARKETING:IN": "2.00",
      "sms:segment:IN": "-1",
      "sms:segment:*": "0.125",
      "email:message:*": "",
    });
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain("3 prices need correcting; nothing was saved.");
    expect(html).toContain("A price can't be negative.");
    expect(html).toContain("Use at most 2 decimal places.");
    expect(html).toContain("Enter an amount, for example 0.88.");
    // What was typed comes back, so it can be corrected.
    expect(inputValue(html, "SMS price for IN per segment")).toBe("-1");
    expect(price("whatsapp", "MARKETING", "IN")).toBe(110);
    expect(price("sms", "segment", "IN")).toBe(35);
  });

  it("adds a country, refuses a bad one, and resets a row", async () => {
    const bad = await alice.post(page, {
      intent: "add-price",
      kind: "sms:segment",
      country: "ZZ",
      price: "1",
    });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Choose a country from the list");
    const res = await alice.post(page, {
      intent: "add-price",
      kind: "sms:segment",
      country: "AE",
      price: "2.40",
    });
    expect(res.status).toBe(302);
    expect(price("sms", "segment", "AE")).toBe(240);
    const again = await alice.post(page, {
      intent: "add-price",
      kind: "sms:segment",
      country: "AE",
      price: "3",
    });
    expect(again.status).toBe(400);
    expect(await textOf(again)).toContain("There is already a price for SMS per segment");
    let html = await textOf(await alice.get(page));
    expect(inputValue(html, "SMS price for AE per segment")).toBe("2.40");
    expect(html).toContain('Remove<span class="visually-hidden"> SMS price for AE per segment');

    expect((await alice.post(page, { intent: "reset-price", key: "sms:segment:IN" })).status).toBe(
      302,
    );
    expect(price("sms", "segment", "IN")).toBe(20);
    expect((await alice.post(page, { intent: "reset-price", key: "sms:segment:AE" })).status).toBe(
      302,
    );
    expect(price("sms", "segment", "AE")).toBeUndefined();
    expect((await alice.post(page, { intent: "reset-price", key: "x:y:zz" })).status).toBe(404);
    html = await textOf(await alice.get(page));
    expect(inputValue(html, "SMS price for AE per segment")).toBeNull();
  });

  it("resets the whole table only after a confirmation", async () => {
    const confirm = await textOf(await alice.get(`${page}?reset=prices`));
    expect(confirm).toContain("Reset all prices to the defaults?");
    expect(ctx.db.select().from(prices).all().length).toBeGreaterThan(0);
    const res = await alice.post(page, { intent: "reset-all" });
    expect(res.status).toBe(302);
    expect(ctx.db.select().from(prices).all()).toHaveLength(0);
    expect(price("whatsapp", "MARKETING", "IN")).toBe(88);
  });
});

describe("permissions", () => {
  it("marketers and viewers see the page read-only and cannot change anything", async () => {
    for (const browser of [marketer, viewer]) {
      const res = await browser.get(page);
      expect(res.status).toBe(200);
      const html = await textOf(res);
      expect(html).toContain("₹0.88");
      expect(html).not.toContain('name="approvalThreshold"');
      expect(html).not.toContain('aria-label="SMS price for IN per segment"');
      const attempts: Record<string, string>[] = [
        { intent: "threshold", approvalThreshold: "5" },
        { intent: "prices", "sms:segment:IN": "9.99" },
        { intent: "add-price", kind: "sms:segment", country: "AE", price: "1" },
        { intent: "reset-all" },
      ];
      for (const fields of attempts) {
        expect((await browser.post(page, fields)).status).toBe(403);
      }
    }
    expect(threshold()).toBeNull();
    expect(ctx.db.select().from(prices).all()).toHaveLength(0);
  });

  it("agents, who read no reports, get 403", async () => {
    expect((await agent.get(page)).status).toBe(403);
    expect((await agent.get(`${page}.csv`)).status).toBe(403);
  });
});

describe("usage", () => {
  beforeAll(() => {
    const meter = (workspaceId: string, day: string, channel: string, messages: number) =>
      getControlDb().insert(usageDaily).values({ workspaceId, day, channel, messages }).run();
    meter(workspace.id, today(), "whatsapp", 1234);
    meter(workspace.id, today(), "sms", 56);
    meter(workspace.id, today(-1), "email", 789);
    meter(workspace.id, today(-40), "sms", 5555); // older than the window
    meter(other.id, today(), "whatsapp", 97531);
    for (const [outcome, input, output] of [
      ["ok", 120, 480],
      ["ok", 100, 400],
      ["rate_limited", 0, 0],
    ] as const) {
      recordAiUsage({
        workspaceId: workspace.id,
        userId: owner.id,
        at: new Date(),
        model: "claude-test",
        purpose: "whatsapp",
        inputTokens: input,
        outputTokens: output,
        outcome,
      });
    }
  });

  it("shows messages per channel for the window and AI usage, nothing of other workspaces", async () => {
    const html = await textOf(await viewer.get(page));
    const row = (name: string) =>
      new RegExp(`<th scope="row">${name}</th><td>([\\d,]+)</td><td>([\\d,]+)</td>`).exec(html);
    expect(row("WhatsApp")?.[2]).toBe("1,234");
    expect(row("SMS")?.[2]).toBe("56");
    expect(row("Email")?.[2]).toBe("789");
    expect(row("Total")?.[2]).toBe("2,079");
    // This month: yesterday counts only when it was in this month.
    const sameMonth = today(-1).slice(0, 7) === today().slice(0, 7);
    expect(row("Total")?.[1]).toBe(sameMonth ? "2,079" : "1,290");
    expect(html).not.toContain("97,531");
    expect(html).not.toContain("5,555");
    expect(html).toContain("<dt>Requests</dt><dd>3</dd>");
    expect(html).toContain("<dt>Input tokens</dt><dd>220</dd>");
    expect(html).toContain("<dt>Output tokens</dt><dd>880</dd>");
    expect(html).toContain('<th scope="row">Refused: over the hourly limit</th><td>1</td>');
    expect(html).toContain(`href="${page}.csv"`);
  });

  it("exports usage per day and channel as CSV", async () => {
    const res = await viewer.get(`${page}.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(
      new RegExp(`attachment; filename="usage-${slug}-\\d{4}-\\d{2}-\\d{2}-to-${today()}\\.csv"`),
    );
    const lines = (await res.text()).split("\r\n");
    expect(lines[0]).toBe("day_utc,channel,messages");
    expect(lines).toHaveLength(1 + 30 * 4 + 1);
    expect(lines).toContain(`${today()},whatsapp,1234`);
    expect(lines).toContain(`${today()},sms,56`);
    expect(lines).toContain(`${today(-1)},email,789`);
    expect(lines).toContain(`${today(-1)},whatsapp,0`);
    expect(lines.some((l) => l.endsWith(",97531") || l.endsWith(",5555"))).toBe(false);
    expect(
      lines.filter((l) => /^\d/.test(l)).reduce((n, l) => n + Number(l.split(",")[2]), 0),
    ).toBe(2079);
  });
});
