import { and, asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, workspaces } from "~/db/schema/control";
import { listMembers, lists, prices } from "~/db/schema/tenant";
import { ValidationError } from "~/lib/errors";
import { giveConsent, insertContact } from "../../../tests/support/contacts";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { setApprovalThreshold } from "../workspaces/workspaces.server";
import {
  cancelCampaign,
  createCampaign,
  priceTable,
  reviewCampaign,
  submitCampaign,
  type CampaignContext,
} from "./campaigns.server";
import { addPrice, resetAllPrices, resetPrice, savePrices, workspacePrices } from "./prices.server";
import { DEFAULT_PRICES } from "./review.server";

/**
 * The price table and the approval threshold as Settings → Sending & usage changes them, and
 * what that does to a campaign's review and its submission.
 */

let ctx: CampaignContext;
let listId: number;

function auditActions(action: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, action)))
    .orderBy(asc(auditLog.id))
    .all();
}

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

function ownRows() {
  return ctx.db.select().from(prices).all().length;
}

function newCampaign() {
  return createCampaign(ctx, {
    name: "Price check",
    channel: "whatsapp",
    audience: { type: "list", id: listId },
    variants: [{ key: "A", templateId: 1 }],
    schedule: { type: "now" },
  });
}

beforeAll(async () => {
  const base = await makeWorkspace("prices");
  ctx = { ...base, userId: base.actor.id };
  // Three in India, two in the US, all with WhatsApp consent.
  const phones: [string, string][] = [
    ["+919810000001", "IN"],
    ["+919810000002", "IN"],
    ["+919810000003", "IN"],
    ["+12025550101", "US"],
    ["+12025550102", "US"],
  ];
  listId = ctx.db
    .insert(lists)
    .values({ name: "Buyers", createdAt: new Date() })
    .returning({ id: lists.id })
    .get().id;
  for (const [phone, country] of phones) {
    const id = insertContact(ctx.db, { name: phone, phone, country });
    giveConsent(ctx.db, id, "whatsapp", "granted");
    ctx.db.insert(listMembers).values({ listId, contactId: id, addedAt: new Date() }).run();
  }
});

describe("price table", () => {
  it("shows the defaults for the workspace's currency until a price changes", () => {
    const view = workspacePrices(ctx, "INR");
    expect(view.custom).toBe(false);
    expect(view.rows).toHaveLength(DEFAULT_PRICES.INR.length);
    // WhatsApp first, each country before "other countries".
    expect(view.rows.slice(0, 2)).toEqual([
      { channel: "whatsapp", unit: "MARKETING", country: "IN", priceMinor: 88, defaultMinor: 88 },
      { channel: "whatsapp", unit: "MARKETING", country: "*", priceMinor: 600, defaultMinor: 600 },
    ]);
  });

  it("saves edited prices, keeping every other default, and the review costs with them", () => {
    const campaign = newCampaign();
    const before = reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(before.cost.totalMinor).toBe(3 * 88 + 2 * 600);

    const result = savePrices(ctx, "INR", [
      { key: "whatsapp:MARKETING:IN", price: "1.25" },
      { key: "whatsapp:UTILITY:IN", price: "0.15" },
      { key: "whatsapp:MARKETING:*", price: "6" }, // unchanged: 600 paise
      { key: "sms:segment:IN", price: "0.20" }, // unchanged
    ]);
    expect(result).toEqual({ changed: 2 });
    expect(ownRows()).toBe(DEFAULT_PRICES.INR.length);
    const view = workspacePrices(ctx, "INR");
    expect(view.custom).toBe(true);
    expect(view.rows.find((r) => r.country === "IN" && r.unit === "MARKETING")).toMatchObject({
      priceMinor: 125,
      defaultMinor: 88,
    });
    expect(view.rows.find((r) => r.channel === "sms" && r.country === "*")?.priceMinor).toBe(500);

    const after = reviewCampaign(ctx, campaign.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(after.cost).toEqual({
      currency: "INR",
      totalMinor: 3 * 125 + 2 * 600,
      lines: [
        { unit: "MARKETING", country: "IN", quantity: 3, unitPriceMinor: 125, totalMinor: 375 },
        { unit: "MARKETING", country: "US", quantity: 2, unitPriceMinor: 600, totalMinor: 1200 },
      ],
    });
    const [entry] = auditActions("workspace.prices_updated");
    expect(JSON.parse(entry!.details!)).toEqual({
      currency: "INR",
      changes: [
        { channel: "whatsapp", unit: "MARKETING", country: "IN", fromMinor: 88, toMinor: 125 },
        { channel: "whatsapp", unit: "UTILITY", country: "IN", fromMinor: 12, toMinor: 15 },
      ],
    });
    cancelCampaign(ctx, campaign.id);
  });

  it("refuses bad amounts and unknown rows, saving none of the batch", () => {
    const table = () =>
      priceTable(ctx).map((r) => `${r.channel}:${r.unit}:${r.country}=${r.priceMinor}`);
    const snapshot = table();
    const error = errorOf(() =>
      savePrices(ctx, "INR", [
        { key: "whatsapp:UTILITY:IN", price: "0.30" }, // valid, must not be saved alone
        { key: "sms:segment:IN", price: "-1" },
        { key: "sms:segment:*", price: "0.125" },
        { key: "email:message:*", price: "abc" },
        { key: "whatsapp:PROMO:IN", price: "1" },
        { key: "fax:page:*", price: "1" },
      ]),
    );
    expect(error.message).toBe("5 prices need correcting; nothing was saved.");
    expect(error.fieldErrors).toEqual({
      "sms:segment:IN": ["A price can't be negative."],
      "sms:segment:*": ["Use at most 2 decimal places."],
      "email:message:*": ["Enter an amount as a number, for example 0.88."],
      "whatsapp:PROMO:IN": ["This price is not in the table (any more). Reload the page."],
      "fax:page:*": ["This price is not in the table (any more). Reload the page."],
    });
    expect(table()).toEqual(snapshot);
  });

  it("adds a country, refuses a duplicate or a made-up country, and resets rows", () => {
    addPrice(ctx, "INR", { channel: "sms", unit: "segment", country: "ae", price: "2.5" });
    expect(priceTable(ctx)).toContainEqual(
      expect.objectContaining({ channel: "sms", unit: "segment", country: "AE", priceMinor: 250 }),
    );
    expect(
      errorOf(() =>
        addPrice(ctx, "INR", { channel: "sms", unit: "segment", country: "AE", price: "3" }),
      ).fieldErrors.country,
    ).toEqual([
      "There is already a price for SMS per segment in United Arab Emirates (AE): change it in the table.",
    ]);
    expect(
      errorOf(() =>
        addPrice(ctx, "INR", { channel: "whatsapp", unit: "PROMO", country: "XX", price: "1.234" }),
      ).fieldErrors,
    ).toEqual({
      unit: ["Choose the WhatsApp category: marketing, utility or authentication."],
      country: ["Choose a country from the list (a two-letter ISO code)."],
      price: ["Use at most 2 decimal places."],
    });
    expect(
      errorOf(() =>
        addPrice(ctx, "INR", { channel: "fax", unit: "page", country: "IN", price: "1" }),
      ).fieldErrors.channel,
    ).toEqual(["Choose WhatsApp, SMS, email or Telegram."]);

    // A changed default row goes back to its default; an added country is removed.
    expect(resetPrice(ctx, "INR", "whatsapp:MARKETING:IN")).toMatchObject({ removed: false });
    expect(
      priceTable(ctx).find(
        (r) => r.channel === "whatsapp" && r.unit === "MARKETING" && r.country === "IN",
      )?.priceMinor,
    ).toBe(88);
    expect(resetPrice(ctx, "INR", "sms:segment:AE")).toMatchObject({ removed: true });
    expect(priceTable(ctx).some((r) => r.country === "AE")).toBe(false);
    expect(() => resetPrice(ctx, "INR", "sms:segment:AE")).toThrow(/Price not found/);
    expect(auditActions("workspace.price_reset")).toHaveLength(2);
    expect(auditActions("workspace.price_added")).toHaveLength(1);

    // The whole table back to the defaults: the workspace stores no prices at all.
    expect(resetAllPrices(ctx, "INR").removed).toBeGreaterThan(0);
    expect(ownRows()).toBe(0);
    expect(workspacePrices(ctx, "INR").custom).toBe(false);
    expect(auditActions("workspace.prices_reset")).toHaveLength(1);
  });
});

describe("approval threshold", () => {
  const threshold = () =>
    getControlDb()
      .select({ t: workspaces.approvalThreshold })
      .from(workspaces)
      .where(eq(workspaces.id, ctx.workspaceId))
      .get()?.t;

  it("refuses anything but a whole number of at least 1, changing nothing", () => {
    for (const [input, message] of [
      ["0", "Use 1 or more, or leave it blank so no campaign needs approval."],
      ["-3", "Use 1 or more, or leave it blank so no campaign needs approval."],
      [
        "2.5",
        "Enter a whole number of recipients, or leave it blank so no campaign needs approval.",
      ],
      [
        "ten",
        "Enter a whole number of recipients, or leave it blank so no campaign needs approval.",
      ],
      ["1000000000", "Use at most 10,00,00,000, or leave it blank."],
    ] as const) {
      expect(errorOf(() => setApprovalThreshold(ctx, ctx.workspaceId, input)).fieldErrors).toEqual({
        approvalThreshold: [message],
      });
    }
    expect(threshold()).toBeNull();
    expect(auditActions("workspace.approval_threshold_changed")).toHaveLength(0);
  });

  it("above the threshold a campaign waits for approval; blank turns approval off", () => {
    expect(setApprovalThreshold(ctx, ctx.workspaceId, " 4 ")).toBe(4);
    const big = newCampaign();
    reviewCampaign(ctx, big.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(submitCampaign(ctx, big.id).status).toBe("pending_approval");
    cancelCampaign(ctx, big.id);

    expect(setApprovalThreshold(ctx, ctx.workspaceId, "1,000")).toBe(1000);
    expect(setApprovalThreshold(ctx, ctx.workspaceId, "")).toBeNull();
    const small = newCampaign();
    reviewCampaign(ctx, small.id, { unit: "MARKETING", unitsPerRecipient: 1 });
    expect(submitCampaign(ctx, small.id).status).toBe("scheduled");
    cancelCampaign(ctx, small.id);

    expect(
      auditActions("workspace.approval_threshold_changed").map((e) => JSON.parse(e.details!)),
    ).toEqual([
      { from: null, to: 4 },
      { from: 4, to: 1000 },
      { from: 1000, to: null },
    ]);
  });
});
