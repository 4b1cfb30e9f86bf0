import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { listMembers, lists, messages, templates } from "~/db/schema/tenant";
import { reloadEnv } from "~/lib/env.server";
import { eq } from "drizzle-orm";
import { createWhatsAppFake, type WhatsAppFake } from "../../../tests/fakes/whatsapp";
import { defineAttribute, giveConsent, insertContact } from "../../../tests/support/contacts";
import { zonedWallTimeToInstant } from "~/lib/time-zone";
import { saveTemplate } from "../templates/templates.server";
import { createUserByOperator } from "../admin/admin.server";
import { suppressionHash, suppressionKey } from "../contacts/suppression-hash.server";
import { Dispatcher } from "../delivery/dispatcher.server";
import { saveIntegration } from "../delivery/integrations.server";
import { openWorkspaceContext } from "../workspaces/access.server";
import { createWorkspace } from "../workspaces/workspaces.server";
import { ConflictError, NotFoundError } from "~/lib/errors";
import { createSegment, updateSegment } from "../segments/segments.server";
import {
  approveCampaign,
  cancelCampaign,
  campaignProgress,
  createCampaign,
  deleteCampaign,
  getCampaign,
  listCampaignsPage,
  pauseCampaign,
  resumeCampaign,
  reviewCampaign,
  submitCampaign,
  updateCampaign,
  type CampaignContext,
} from "./campaigns.server";
import { OVER_REVIEW_LABEL, writeCampaignMessages } from "./queue.server";
import { conversations } from "~/db/schema/tenant-inbox";
import { conversationForInbound } from "../inbox/conversations.server";
import { campaignContent } from "./renderers.server";
import { campaignRunnerHook, runDueCampaigns } from "./campaign-runner.server";
import { answersFromCampaign, inputFromAnswers, validateStep } from "./wizard.server";

/**
 * Campaigns on real workspaces: the review's numbers on a crafted audience, four-eyes approval,
 * queuing through the runner, pause/resume without a message going twice.
 */

let fake: WhatsAppFake;
let ctx: CampaignContext;
let owner: string;
let admin: string;
const NUMBER = { phoneNumberId: "1065550101", accessToken: "token-c", wabaId: "200300" };

async function user(email: string): Promise<string> {
  return (
    await createUserByOperator(
      { actor: { type: "cli" }, now: () => new Date() },
      { name: email, email, password: "plum orbit saddle 42" },
    )
  ).id;
}

function makeList(name: string, ids: number[]): number {
  const list = ctx.db
    .insert(lists)
    .values({ name, createdAt: new Date() })
    .returning({ id: lists.id })
    .get();
  for (const contactId of ids) {
    ctx.db.insert(listMembers).values({ listId: list.id, contactId, addedAt: new Date() }).run();
  }
  return list.id;
}

function phoneContact(n: number, consent = true): number {
  const id = insertContact(ctx.db, {
    name: `Asha ${n}`,
    phone: `+9198100${String(n).padStart(5, "0")}`,
    country: "IN",
  });
  if (consent) giveConsent(ctx.db, id, "whatsapp", "granted");
  return id;
}

const templateInput = (listId: number, extra: Record<string, unknown> = {}) => ({
  name: "Diwali offer",
  channel: "whatsapp",
  audience: { type: "list", id: listId },
  variants: [{ key: "A", templateId: 1 }],
  schedule: { type: "now" },
  ...extra,
});

async function drain() {
  const dispatcher = new Dispatcher({
    dueHooks: [campaignRunnerHook],
    content: campaignContent,
    maxInFlight: 32,
    retryBaseMs: 5,
  });
  dispatcher.start();
  for (let i = 0; i < 200; i++) {
    await dispatcher.idle();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const open = ctx.db.$client
      .prepare(
        "SELECT count(*) FROM messages WHERE status IN ('queued', 'sending') AND next_attempt_at < ?",
      )
      .pluck()
      .get(Date.now() + 60_000) as number;
    if (open === 0) break;
    dispatcher.scan();
  }
  await dispatcher.stop();
}

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  await fake.start();
  process.env.WHATSAPP_API_BASE_URL = fake.url;
  process.env.BASE_URL = "https://engage.test";
  reloadEnv();
  owner = await user("owner@campaigns.test");
  admin = await user("admin@campaigns.test");
  const ws = createWorkspace({ actor: { type: "user", id: owner }, now: () => new Date() }, owner, {
    slug: "campaigns",
    name: "Campaigns",
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });
  ctx = {
    ...openWorkspaceContext(ws.id, { type: "user", id: owner }, {}),
    userId: owner,
  };
  saveIntegration(ctx, ws.id, "whatsapp", {
    ...NUMBER,
    appSecret: "s",
    verifyToken: "v",
    messagingTier: "TIER_250",
    ratePerSecond: 50,
  });
  // Two approved WhatsApp templates, as the sync from Meta writes them.
  for (const [id, name] of [
    [1, "diwali"],
    [2, "diwali_b"],
  ] as const) {
    ctx.db
      .insert(templates)
      .values({
        id,
        channel: "whatsapp",
        name,
        language: "en",
        category: "MARKETING",
        status: "approved",
        content: JSON.stringify({
          components: [{ type: "BODY", text: "Hi {{1}}, Diwali offers are here" }],
          variableMap: { "1": "name" },
        }),
        createdAt: new Date(),
        updatedAt: new Date(),
      })
      .run();
  }
});

afterAll(async () => {
  await fake.stop();
});

describe("review", () => {
  it("counts the audience, every skip reason, the tier limit, the cost and the duration exactly", () => {
    const eligible = Array.from({ length: 5 }, (_, i) => phoneContact(i + 1));
    const noConsent = [phoneContact(10, false), phoneContact(11, false)];
    const suppressed = phoneContact(12);
    ctx.db.$client
      .prepare(
        "INSERT INTO suppressions (hash, kind, channel, reason, created_at) VALUES (?, 'phone', 'whatsapp', 'unsubscribe', 0)",
      )
      .run(suppressionHash(suppressionKey(ctx.db), "phone", "+919810000012"));
    const noPhone = [
      insertContact(ctx.db, { name: "Mail only", email: "m1@example.com" }),
      insertContact(ctx.db, { name: "Mail only 2", email: "m2@example.com" }),
    ];
    // 248 people already got a marketing message in the last 24 hours: 2 left in TIER_250.
    const insert = ctx.db.$client.prepare(
      `INSERT INTO messages (id, channel, kind, recipient, status, next_attempt_at, created_at, updated_at, sent_at)
       VALUES (?, 'whatsapp', 'marketing', ?, 'sent', 0, 0, 0, ?)`,
    );
    for (let i = 0; i < 248; i++) insert.run(`msg_prev${i}`, `+9170000${i}`, Date.now() - 60_000);
    const listId = makeList("Review", [...eligible, ...noConsent, suppressed, ...noPhone]);
    const campaign = createCampaign(ctx, templateInput(listId));
    const review = reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(review).toMatchObject({
      audience: 10,
      eligible: 2,
      skipped: { no_address: 2, no_consent: 2, suppressed: 1, over_tier_limit: 3 },
      byCountry: { IN: 2 },
      ratePerSecond: 50,
      durationSeconds: 1,
      sandbox: false,
    });
    expect(review.cost).toEqual({
      currency: "INR",
      totalMinor: 176,
      lines: [
        { unit: "MARKETING", country: "IN", quantity: 2, unitPriceMinor: 88, totalMinor: 176 },
      ],
    });
    ctx.db.delete(messages).run();
  });
});

describe("approval", () => {
  it("large campaigns wait for a different admin", () => {
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: 2 })
      .where(eq(workspaces.id, ctx.workspaceId))
      .run();
    const listId = makeList("Approval", [phoneContact(20), phoneContact(21), phoneContact(22)]);
    const campaign = createCampaign(ctx, templateInput(listId));
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(submitCampaign(ctx, campaign.id).status).toBe("pending_approval");
    expect(() => approveCampaign(ctx, campaign.id)).toThrow(/Another admin/);
    const other = { ...ctx, userId: admin, actor: { type: "user" as const, id: admin } };
    expect(approveCampaign(other, campaign.id)).toMatchObject({
      status: "scheduled",
      approvedBy: admin,
    });
    cancelCampaign(ctx, campaign.id);
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: null })
      .where(eq(workspaces.id, ctx.workspaceId))
      .run();
  });
});

describe("the review is a ceiling", () => {
  const other = () => ({ ...ctx, userId: admin, actor: { type: "user" as const, id: admin } });
  const status = (id: number) =>
    ctx.db.$client.prepare("SELECT status FROM campaigns WHERE id = ?").pluck().get(id);
  const rowsOf = (id: number) =>
    ctx.db.$client
      .prepare("SELECT contact_id AS contactId, status, error FROM messages WHERE campaign_id = ?")
      .all(id) as { contactId: number; status: string; error: string | null }[];
  const addMembers = (listId: number, ids: number[]) => {
    for (const contactId of ids) {
      ctx.db.insert(listMembers).values({ listId, contactId, addedAt: new Date() }).run();
    }
  };
  async function runUntilSettled(id: number) {
    runDueCampaigns(ctx);
    for (let i = 0; i < 2000 && ["scheduled", "queuing"].includes(status(id) as string); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const threshold = (value: number | null) =>
    getControlDb()
      .update(workspaces)
      .set({ approvalThreshold: value })
      .where(eq(workspaces.id, ctx.workspaceId))
      .run();

  it("approved at 5, the list grows to 10: nothing is queued, it needs review and approval again", async () => {
    threshold(3);
    const listId = makeList(
      "Ceiling",
      Array.from({ length: 5 }, (_, i) => phoneContact(4000 + i)),
    );
    const campaign = createCampaign(ctx, templateInput(listId));
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(submitCampaign(ctx, campaign.id).status).toBe("pending_approval");
    expect(approveCampaign(other(), campaign.id)).toMatchObject({ status: "scheduled", total: 5 });
    // The approved number cannot be recounted in place.
    expect(() =>
      reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 }),
    ).toThrow(ConflictError);

    addMembers(
      listId,
      Array.from({ length: 5 }, (_, i) => phoneContact(4100 + i)),
    );
    fake.clearSent();
    await runUntilSettled(campaign.id);

    expect(rowsOf(campaign.id)).toEqual([]);
    const back = getCampaign(ctx, campaign.id);
    expect(back).toMatchObject({
      status: "draft",
      review: null,
      approvedBy: null,
      approvedAt: null,
      startedAt: null,
      total: 0,
    });
    expect(back.error).toBe(
      "Not sent: its audience grew after it was reviewed and approved (10 people can receive it now; the review counted 5). Nothing was queued. Review it again to send it; above 3 recipients another owner or admin has to approve it again.",
    );
    await drain();
    expect(fake.sent).toHaveLength(0);
    // Sending it again goes through a fresh review and a second pair of eyes.
    expect(() => submitCampaign(ctx, campaign.id)).toThrow(/Review the campaign/);
    expect(
      reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 }).eligible,
    ).toBe(10);
    expect(submitCampaign(ctx, campaign.id)).toMatchObject({
      status: "pending_approval",
      total: 10,
      error: null,
    });
    cancelCampaign(ctx, campaign.id);
    threshold(null);
  });

  it("a WhatsApp campaign whose list grew waits for a fresh review, even without an approval limit", async () => {
    const listId = makeList("Ceiling, no limit", [phoneContact(4500), phoneContact(4501)]);
    const campaign = createCampaign(ctx, templateInput(listId));
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(submitCampaign(ctx, campaign.id).status).toBe("scheduled");
    addMembers(listId, [phoneContact(4502)]);
    await runUntilSettled(campaign.id);
    expect(rowsOf(campaign.id)).toEqual([]);
    expect(getCampaign(ctx, campaign.id)).toMatchObject({
      status: "draft",
      error:
        "Not sent: its audience grew after it was reviewed (3 people can receive it now; the review counted 2). Nothing was queued. Review it again to send it.",
    });
    deleteCampaign(ctx, campaign.id);
  });

  it("an email campaign that needed no approval may grow up to the approval threshold, not past it", async () => {
    threshold(4);
    const template = saveTemplate(ctx, {
      channel: "email",
      name: "Growing list",
      subject: "Hello {{ first_name }}",
      html: "<p>Hi {{ first_name }}</p>",
      trackLinks: false,
    });
    let n = 0;
    const mailContact = () => {
      n += 1;
      const id = insertContact(ctx.db, { name: `Grow ${n}`, email: `grow${n}@ceiling.test` });
      giveConsent(ctx.db, id, "email", "granted");
      return id;
    };
    const emailCampaign = (listId: number) => {
      const campaign = createCampaign(ctx, {
        ...templateInput(listId),
        channel: "email",
        variants: [{ key: "A", templateId: template.id }],
      });
      reviewCampaign(ctx, campaign.id, { unit: "message", unitsPerRecipient: 1 });
      expect(submitCampaign(ctx, campaign.id).status).toBe("scheduled");
      return campaign.id;
    };

    // Reviewed at 2, grown to 4 (the threshold): it goes out to all four.
    const within = makeList("Grows within", [mailContact(), mailContact()]);
    const sent = emailCampaign(within);
    addMembers(within, [mailContact(), mailContact()]);
    await runUntilSettled(sent);
    expect(rowsOf(sent).filter((r) => r.status !== "skipped")).toHaveLength(4);
    cancelCampaign(ctx, sent);

    // Reviewed at 2, grown to 5: past the threshold it would have needed a second person.
    const past = makeList("Grows past", [mailContact(), mailContact()]);
    const held = emailCampaign(past);
    addMembers(past, [mailContact(), mailContact(), mailContact()]);
    await runUntilSettled(held);
    expect(rowsOf(held)).toEqual([]);
    expect(getCampaign(ctx, held)).toMatchObject({ status: "draft", review: null });
    deleteCampaign(ctx, held);
    threshold(null);
  });

  it("a campaign message joins the contact's active conversation and starts none", () => {
    const talking = phoneContact(8800);
    const quiet = phoneContact(8801);
    const listId = makeList("Inbox joins", [talking, quiet]);
    const campaign = createCampaign(ctx, templateInput(listId));
    const { conversationId } = conversationForInbound(ctx.db, {
      contactId: talking,
      channel: "whatsapp",
      integrationId: campaign.integrationId,
      at: new Date(),
      preview: "Hi",
      reopenWithinDays: 7,
    });
    const before = ctx.db.select().from(conversations).all().length;
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    submitCampaign(ctx, campaign.id);
    writeCampaignMessages(ctx, campaign.id, {
      part: "all",
      notBefore: Date.now() + 365 * 86_400_000,
    });
    const byContact = new Map(
      ctx.db
        .select()
        .from(messages)
        .where(eq(messages.campaignId, campaign.id))
        .all()
        .map((r) => [r.contactId, r]),
    );
    expect(byContact.get(talking)?.conversationId).toBe(conversationId);
    expect(byContact.get(quiet)?.conversationId).toBeNull();
    expect(ctx.db.select().from(conversations).all()).toHaveLength(before);
    cancelCampaign(ctx, campaign.id);
  });

  it("once writing has begun, no more than the reviewed number are queued", () => {
    const original = Array.from({ length: 20 }, (_, i) => phoneContact(4200 + i));
    const listId = makeList("Ceiling A/B", original);
    const campaign = createCampaign(
      ctx,
      templateInput(listId, {
        variants: [
          { key: "A", templateId: 1 },
          { key: "B", templateId: 2 },
        ],
        abTest: { samplePercent: 50, metric: "delivered", decideAfterMinutes: 15 },
      }),
    );
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    submitCampaign(ctx, campaign.id);
    const later = Date.now() + 365 * 86_400_000;
    const sample = writeCampaignMessages(ctx, campaign.id, { part: "sample", notBefore: later });
    expect(sample.queued).toBeGreaterThan(0);
    // The list doubles while the sample is out; the winner goes only to the reviewed 20.
    const joined = Array.from({ length: 20 }, (_, i) => phoneContact(4300 + i));
    addMembers(listId, joined);
    writeCampaignMessages(ctx, campaign.id, { part: "rest", winner: "A", notBefore: later });

    const rows = rowsOf(campaign.id);
    const queued = rows.filter((r) => r.status === "queued");
    expect(queued).toHaveLength(20);
    expect(new Set(queued.map((r) => r.contactId))).toEqual(new Set(original));
    const over = rows.filter((r) => r.status === "skipped");
    expect(over.length).toBeGreaterThan(0);
    expect(over.every((r) => r.error === OVER_REVIEW_LABEL && joined.includes(r.contactId))).toBe(
      true,
    );
    cancelCampaign(ctx, campaign.id);
  });

  it("changing the audience after the review or the approval invalidates it", async () => {
    const first = makeList("Audience one", [phoneContact(4400)]);
    const second = makeList("Audience two", [phoneContact(4401), phoneContact(4402)]);
    // Another list or segment for the draft: the review is gone.
    const draft = createCampaign(ctx, templateInput(first));
    reviewCampaign(ctx, draft.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(updateCampaign(ctx, draft.id, templateInput(second)).review).toBeNull();
    expect(() => submitCampaign(ctx, draft.id)).toThrow(/Review the campaign/);
    deleteCampaign(ctx, draft.id);

    // The segment a reviewed draft uses is edited: the review no longer holds.
    const segmentCtx = { ...ctx };
    const inList = (listId: number) => ({
      op: "and",
      conditions: [{ type: "list", op: "in", listId }],
    });
    const segment = createSegment(segmentCtx, {
      name: "Ceiling segment",
      definition: inList(first),
    });
    const campaign = createCampaign(
      ctx,
      templateInput(first, { audience: { type: "segment", id: segment.id } }),
    );
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    updateSegment(segmentCtx, segment.id, { name: "Ceiling segment", definition: inList(second) });
    expect(() => submitCampaign(ctx, campaign.id)).toThrow(
      "The segment changed after this review. Open the review again to see who it reaches now.",
    );

    // Reviewed, submitted, approved; then the segment is edited: it comes back, nothing queued.
    threshold(0);
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(submitCampaign(ctx, campaign.id).status).toBe("pending_approval");
    approveCampaign(other(), campaign.id);
    // A campaign on its way cannot be pointed elsewhere.
    expect(() => updateCampaign(ctx, campaign.id, templateInput(first))).toThrow(ConflictError);
    updateSegment(segmentCtx, segment.id, { name: "Ceiling segment", definition: inList(first) });
    await runUntilSettled(campaign.id);
    expect(rowsOf(campaign.id)).toEqual([]);
    expect(getCampaign(ctx, campaign.id)).toMatchObject({
      status: "draft",
      review: null,
      approvedBy: null,
      error:
        "Not sent: its segment was changed after it was reviewed and approved. Nothing was queued. Review it again to send it; above 0 recipients another owner or admin has to approve it again.",
    });
    deleteCampaign(ctx, campaign.id);
    threshold(null);
  });
});

describe("sending", () => {
  it("queues through the runner, pauses and resumes without sending anyone twice, completes", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => phoneContact(100 + i));
    const listId = makeList("Send", ids);
    const campaign = createCampaign(ctx, templateInput(listId));
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    submitCampaign(ctx, campaign.id);
    fake.clearSent();
    runDueCampaigns(ctx);
    // Queuing runs in slices in the background; wait for it.
    for (let i = 0; i < 2000 && campaignProgress(ctx, campaign.id).queued < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const paused = pauseCampaign(ctx, campaign.id);
    expect(paused.held).toBe(40);
    await drain();
    expect(fake.sent).toHaveLength(0);
    const resumed = resumeCampaign(ctx, campaign.id);
    expect(resumed.released).toBe(40);
    await drain();
    const names = fake.sent.map((s) => s.template!.params[0]);
    expect(names).toHaveLength(40);
    expect(new Set(names).size).toBe(40);
    runDueCampaigns(ctx);
    expect(campaignProgress(ctx, campaign.id)).toMatchObject({ total: 40, byStatus: { sent: 40 } });
    expect(
      ctx.db.$client.prepare("SELECT status FROM campaigns WHERE id = ?").pluck().get(campaign.id),
    ).toBe("completed");
  });

  it("an A/B test sends the sample, then the winner to the rest", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => phoneContact(1000 + i));
    const listId = makeList("AB", ids);
    const campaign = createCampaign(
      ctx,
      templateInput(listId, {
        variants: [
          { key: "A", templateId: 1 },
          { key: "B", templateId: 2 },
        ],
        abTest: { samplePercent: 20, metric: "delivered", decideAfterMinutes: 15 },
      }),
    );
    reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    submitCampaign(ctx, campaign.id);
    fake.clearSent();
    runDueCampaigns(ctx);
    for (let i = 0; i < 2000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (
        ctx.db.$client
          .prepare("SELECT status FROM campaigns WHERE id = ?")
          .pluck()
          .get(campaign.id) === "testing"
      )
        break;
    }
    await drain();
    const sample = fake.sent.length;
    expect(sample).toBeGreaterThan(20);
    expect(sample).toBeLessThan(70);
    // B's messages get delivered, A's do not: B wins on the delivered rate.
    ctx.db.$client
      .prepare(
        "UPDATE messages SET delivered_at = sent_at, status = 'delivered' WHERE campaign_id = ? AND variant = 'B'",
      )
      .run(campaign.id);
    // 16 minutes later: the test's wait is over.
    ctx.db.$client
      .prepare("UPDATE campaigns SET started_at = started_at - ? WHERE id = ?")
      .run(16 * 60_000, campaign.id);
    runDueCampaigns(ctx);
    for (let i = 0; i < 2000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (
        ctx.db.$client
          .prepare("SELECT status FROM campaigns WHERE id = ?")
          .pluck()
          .get(campaign.id) === "sending"
      )
        break;
    }
    await drain();
    expect(
      ctx.db.$client.prepare("SELECT winner FROM campaigns WHERE id = ?").pluck().get(campaign.id),
    ).toBe("B");
    expect(fake.sent).toHaveLength(200);
    const rest = fake.sent.slice(sample);
    expect(rest.every((s) => s.template!.name === "diwali_b")).toBe(true);
    expect(new Set(fake.sent.map((s) => s.template!.params[0])).size).toBe(200);
  });

  it("writes each message when it is sent, and sends at the same local time in each contact's zone", async () => {
    defineAttribute(ctx.db, "timezone", "text");
    const person = (name: string, extra: Parameters<typeof insertContact>[1]) => {
      const id = insertContact(ctx.db, { name, ...extra });
      giveConsent(ctx.db, id, "email", "granted");
      return id;
    };
    const york = person("Ada York", {
      email: "ada@zones.test",
      attributes: { timezone: "America/New_York" },
    });
    const london = person("Ben London", { email: "ben@zones.test", country: "GB" });
    const states = person("Cy States", { email: "cy@zones.test", country: "US" });
    const nowhere = person("Di Nowhere", { email: "di@zones.test" });
    const template = saveTemplate(ctx, {
      channel: "email",
      name: "Zones",
      subject: "Hello {{ first_name }}",
      html: '<p>Hi {{ first_name }}</p><p><a href="https://shop.example/x">Shop</a></p>',
      trackLinks: true,
    });
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const campaign = createCampaign(ctx, {
      ...templateInput(makeList("Zones", [york, london, states, nowhere])),
      channel: "email",
      variants: [{ key: "A", templateId: template.id }],
      schedule: { type: "local", date: tomorrow, time: "09:00" },
    });
    reviewCampaign(ctx, campaign.id, { unit: "message", unitsPerRecipient: 1 });
    submitCampaign(ctx, campaign.id);
    runDueCampaigns(ctx);
    for (let i = 0; i < 2000 && campaignProgress(ctx, campaign.id).queued < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const rows = () =>
      ctx.db.$client
        .prepare(
          `SELECT m.id, m.contact_id, coalesce(c.content, '') AS content, m.next_attempt_at, m.status
             FROM messages m LEFT JOIN message_contents c ON c.message_id = m.id
            WHERE m.campaign_id = ? ORDER BY m.contact_id`,
        )
        .all(campaign.id) as {
        id: string;
        contact_id: number;
        content: string;
        next_attempt_at: number;
        status: string;
      }[];
    const at = (zone: string) => zonedWallTimeToInstant(tomorrow, "09:00", zone);
    // The attribute wins; a one-zone country gives its zone; a many-zone country or none, the
    // workspace's zone (Asia/Kolkata).
    expect(rows().map((r) => [r.contact_id, r.next_attempt_at, r.content])).toEqual([
      [york, at("America/New_York"), ""],
      [london, at("Europe/London"), ""],
      [states, at("Asia/Kolkata"), ""],
      [nowhere, at("Asia/Kolkata"), ""],
    ]);
    // The clock reaches 9:00 everywhere.
    ctx.db.$client
      .prepare("UPDATE messages SET next_attempt_at = 0 WHERE campaign_id = ?")
      .run(campaign.id);
    await drain();
    const sent = rows();
    expect(sent.map((r) => r.status)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    for (const [i, first] of ["Ada", "Ben", "Cy", "Di"].entries()) {
      const content = JSON.parse(sent[i]!.content) as { subject: string; html: string };
      expect(content.subject).toBe(`Hello ${first}`);
      expect(content.html).toContain(`Hi ${first}`);
      // Its own signed unsubscribe link and a tracked link, not the bare URL.
      expect(content.html).toMatch(/https:\/\/engage\.test\/u\/[A-Za-z0-9_-]+\./);
      expect(content.html).not.toContain('href="https://shop.example/x"');
    }
    expect(new Set(sent.map((r) => r.content)).size).toBe(4);
  });
});

describe("drafts", () => {
  it("lists newest first by status with a total, and deletes only drafts", () => {
    const listId = makeList("Drafts", [phoneContact(3000)]);
    const before = listCampaignsPage(ctx, { status: "draft" }).total;
    const first = createCampaign(ctx, templateInput(listId, { name: "Draft one" }));
    const second = createCampaign(ctx, templateInput(listId, { name: "Draft two" }));
    const page = listCampaignsPage(ctx, { status: "draft", limit: 1 });
    expect(page.total).toBe(before + 2);
    expect(page.rows.map((c) => c.name)).toEqual(["Draft two"]);
    expect(listCampaignsPage(ctx, { status: "draft", limit: 1, offset: 1 }).rows[0]!.id).toBe(
      first.id,
    );
    expect(
      listCampaignsPage(ctx, { status: "completed" }).rows.every((c) => c.status === "completed"),
    ).toBe(true);

    deleteCampaign(ctx, second.id);
    expect(() => getCampaign(ctx, second.id)).toThrow(NotFoundError);
    reviewCampaign(ctx, first.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    submitCampaign(ctx, first.id);
    expect(() => deleteCampaign(ctx, first.id)).toThrow(ConflictError);
    expect(getCampaign(ctx, first.id).status).toBe("scheduled");
    cancelCampaign(ctx, first.id);
  });

  it("the wizard's answers round-trip through a draft, and each step checks its own", () => {
    const listId = makeList("Wizard", [phoneContact(3001)]);
    const at = Date.UTC(2030, 0, 15, 12, 30); // 18:00 in Asia/Kolkata
    const campaign = createCampaign(
      ctx,
      templateInput(listId, {
        variants: [
          { key: "A", templateId: 1 },
          { key: "B", templateId: 2 },
        ],
        abTest: { samplePercent: 10, metric: "clicked", decideAfterMinutes: 60 },
        schedule: { type: "at", at },
        throttlePerSecond: 5,
      }),
    );
    const answers = answersFromCampaign(campaign, "Asia/Kolkata");
    expect(answers).toMatchObject({ when: "at", date: "2030-01-15", time: "18:00", abTest: "on" });
    expect(inputFromAnswers(answers, "Asia/Kolkata")).toMatchObject({
      audience: campaign.audience,
      variants: campaign.variants,
      schedule: { type: "at", at },
      abTest: { samplePercent: "10", metric: "clicked", decideAfterMinutes: "60" },
      throttlePerSecond: "5",
    });
    for (const step of ["channel", "audience", "template", "schedule"] as const) {
      expect(validateStep(ctx, step, answers), step).toEqual({});
    }
    expect(validateStep(ctx, "template", { ...answers, templateB: "1" })).toEqual({
      templateB: ["Choose a different template for each variant."],
    });
    expect(validateStep(ctx, "template", { ...answers, channel: "sms" }).templateA).toEqual([
      "Variant A: “diwali” is a WhatsApp template; choose one for this channel.",
    ]);
    expect(validateStep(ctx, "audience", { audience: "segment:999" })).toEqual({
      audience: ["That segment or list no longer exists. Choose another."],
    });
    expect(
      validateStep(ctx, "schedule", { when: "local", date: "2020-01-01", time: "09:00" }),
    ).toEqual({
      time: [
        "That time has passed in the workspace's time zone (Asia/Kolkata); choose a later one.",
      ],
    });
    deleteCampaign(ctx, campaign.id);
  });
});
