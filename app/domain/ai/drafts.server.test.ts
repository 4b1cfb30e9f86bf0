import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { aiUsage } from "~/db/schema/control";
import { aiDrafts } from "~/db/schema/tenant-inbox";
import { reloadEnv } from "~/lib/env.server";
import { RateLimitedError, ValidationError } from "~/lib/errors";
import {
  createAnthropicFake,
  FAKE_ANTHROPIC_API_KEY,
  type AnthropicFake,
} from "../../../tests/fakes/anthropic";
import { assign, humanReply, seedConversation, setInboxAi } from "../../../tests/support/ai-inbox";
import { rejected } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { createAttributeDefinition } from "../contacts/attributes.server";
import type { WorkspaceContext } from "../context";
import { subscribeInboxEvents, type InboxEvent } from "../inbox/live.server";
import { rewriteText, summariseConversation } from "./assist.server";
import { AiNotConfiguredError, BUSY_MESSAGE } from "./claude.server";
import {
  autoDraftAfterCustomerMessage,
  discardDraft,
  draftRates,
  getDraft,
  latestDraft,
  markDraftSent,
  requestDraft,
} from "./drafts.server";
import { AiDisabledError } from "./inbox-context.server";
import { createSnippet } from "./knowledge.server";

let fake: AnthropicFake;
let ctx: WorkspaceContext;
let userId: string;
let seq = 0;
let deliverySnippet: number;

const CONTACT = {
  name: "Priya Raman",
  email: "priya.raman@example.com",
  phone: "+919812345678",
  attributes: { city: "Chennai" },
};

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  reloadEnv();
}

function usage(workspaceId = ctx.workspaceId) {
  return getControlDb()
    .select()
    .from(aiUsage)
    .where(eq(aiUsage.workspaceId, workspaceId))
    .orderBy(aiUsage.id)
    .all();
}

function conversation(c = ctx, contact: typeof CONTACT | undefined = undefined) {
  return seedConversation(c, {
    contact: contact ?? {
      ...CONTACT,
      email: `priya${++seq}@example.com`,
      phone: `+9198123${String(seq).padStart(5, "0")}`,
    },
    messages: [
      { from: "customer", text: "Hi, do you deliver on Sundays?" },
      { from: "team", text: "Hello! Let me check for you." },
      { from: "customer", text: "Also what are your delivery charges?" },
    ],
  }).conversationId;
}

async function newWorkspace(): Promise<WorkspaceContext> {
  seq += 1;
  const w = await makeWorkspace(`ai-drafts-${seq}`, { name: "Chai Point" });
  createAttributeDefinition(w, { key: "city", label: "City", type: "text" });
  return w;
}

beforeAll(async () => {
  fake = createAnthropicFake();
  await fake.start();
  setEnv({
    ANTHROPIC_API_KEY: FAKE_ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_TIMEOUT_MS: "1000",
    AI_INBOX_REQUESTS_PER_HOUR: "1000",
  });
  ctx = await newWorkspace();
  userId = ctx.actor.id!;
  deliverySnippet = createSnippet(ctx, {
    title: "Delivery days and charges",
    body: "We deliver Monday to Saturday. Delivery is free above ₹499.",
  }).id;
  createSnippet(ctx, { title: "Refunds", body: "Refunds are paid within 7 days." });
});

beforeEach(() => {
  fake.respondWith(`We deliver Monday to Saturday.\nSources: ${deliverySnippet}, 4242`);
  fake.clearFaults();
  fake.clearCalls();
});

afterAll(async () => {
  await fake.stop();
});

describe("requestDraft", () => {
  it("stores a pending draft at once, then the answer with its citations, and meters it", async () => {
    const id = conversation();
    const events: InboxEvent[] = [];
    const stop = subscribeInboxEvents(ctx.workspaceId, (e) => events.push(e));
    const before = usage().length;
    const { draftId, done } = requestDraft(ctx, id, userId);
    expect(getDraft(ctx, draftId)).toMatchObject({ status: "pending", requestedBy: userId });
    await done;
    stop();
    const draft = getDraft(ctx, draftId);
    expect(draft).toMatchObject({
      status: "ready",
      body: "We deliver Monday to Saturday.",
      citations: [{ id: deliverySnippet, title: "Delivery days and charges" }],
    });
    expect(latestDraft(ctx, id)?.id).toBe(draftId);
    expect(events.filter((e) => e.type === "draft")).toHaveLength(2);

    const call = fake.calls[0]!;
    expect(call.stream).toBe(true);
    expect(call.messages[0]!.text).toContain(`<snippet id="${deliverySnippet}"`);
    expect(call.messages[0]!.text).toContain("City: Chennai");
    expect(call.messages[0]!.text).toContain("delivery charges");
    const prompt = call.system + call.messages[0]!.text;
    expect(prompt).not.toContain("example.com");
    expect(prompt).not.toContain("98123");

    const rows = usage().slice(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ purpose: "reply-draft", outcome: "ok", userId });
    expect(rows[0]!.inputTokens).toBeGreaterThan(0);
    expect(rows[0]!.outputTokens).toBeGreaterThan(0);
  });

  it("returns the draft being written instead of asking twice; a new request replaces a ready one", async () => {
    const id = conversation();
    const hold = fake.hold();
    const first = requestDraft(ctx, id, userId);
    await hold.arrived;
    expect(requestDraft(ctx, id, userId).draftId).toBe(first.draftId);
    hold.release();
    await first.done;
    const second = requestDraft(ctx, id, userId);
    await second.done;
    expect(getDraft(ctx, first.draftId)).toMatchObject({
      status: "discarded",
      discardReason: "Replaced by a new draft",
    });
    expect(getDraft(ctx, second.draftId).status).toBe("ready");
    expect(fake.calls).toHaveLength(2);
  });

  it("a human reply discards a pending AI draft even when the draft finishes afterwards", async () => {
    const id = conversation();
    fake.respondWith("THIS AI TEXT MUST NEVER BE STORED\nSources: none");
    const hold = fake.hold();
    const { draftId, done } = requestDraft(ctx, id, userId);
    await hold.arrived;
    expect(getDraft(ctx, draftId).status).toBe("pending");
    humanReply(ctx, id, userId, "I answered myself");
    expect(getDraft(ctx, draftId)).toMatchObject({
      status: "discarded",
      discardReason: "A member replied",
    });
    hold.release();
    await done;
    const row = ctx.db.select().from(aiDrafts).where(eq(aiDrafts.id, draftId)).get()!;
    expect(row.status).toBe("discarded");
    expect(row.body).toBe("");
    expect(row.completedAt).toBeNull();
    // Claude did answer (and it is metered); the answer just had nowhere to land.
    expect(fake.calls).toHaveLength(1);
    expect(usage().at(-1)).toMatchObject({ purpose: "reply-draft", outcome: "ok" });
  });

  it("a member taking the conversation discards; auto-assignment (no actor) does not", async () => {
    const id = conversation();
    const ready = requestDraft(ctx, id, userId);
    await ready.done;
    assign(ctx, id, null);
    expect(getDraft(ctx, ready.draftId).status).toBe("ready");
    assign(ctx, id, userId);
    expect(getDraft(ctx, ready.draftId)).toMatchObject({
      status: "discarded",
      discardReason: "A member took over",
    });
  });

  it("a provider failure or timeout fails the draft with a short reason; replies still work", async () => {
    const id = conversation();
    fake.overloaded({ times: 2 });
    const busy = requestDraft(ctx, id, userId);
    await busy.done;
    expect(getDraft(ctx, busy.draftId)).toMatchObject({ status: "failed", error: BUSY_MESSAGE });
    expect(usage().at(-1)).toMatchObject({ purpose: "reply-draft", outcome: "error" });

    fake.timeout();
    const slow = requestDraft(ctx, id, userId);
    const started = Date.now();
    await slow.done;
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(getDraft(ctx, slow.draftId)).toMatchObject({
      status: "failed",
      error: "Claude did not answer in time. Try again.",
    });

    // The composer is unaffected: a failed draft cannot be "sent", and a reply goes in.
    expect(markDraftSent(ctx, slow.draftId, "anything")).toEqual({ sent: false, edited: true });
    humanReply(ctx, id, userId);
    expect(getDraft(ctx, slow.draftId).status).toBe("failed");
    // And the next request works again.
    const again = requestDraft(ctx, id, userId);
    await again.done;
    expect(getDraft(ctx, again.draftId).status).toBe("ready");
  }, 20_000);

  it("refuses a conversation with nothing in it, or one that does not exist", () => {
    const empty = seedConversation(ctx).conversationId;
    expect(() => requestDraft(ctx, empty, userId)).toThrow(ValidationError);
    expect(() => requestDraft(ctx, 987_654, userId)).toThrow(/Conversation 987654 not found/);
  });
});

describe("the workspace's switch, the server's configuration and the hourly limit", () => {
  it("AI off: drafts, rewrites and summaries are refused with a clear 409; nothing reaches Claude", async () => {
    const w = await newWorkspace();
    const id = conversation(w);
    setInboxAi(w, { aiEnabled: false, aiAutoDraft: true });
    expect(() => requestDraft(w, id, null)).toThrow(AiDisabledError);
    const error = await rejected(rewriteText(w, "Hello", "formal"));
    expect(error).toMatchObject({ status: 409, code: "ai_disabled" });
    expect(error.message).toMatch(/turned off for this workspace/);
    await expect(summariseConversation(w, id)).rejects.toThrow(AiDisabledError);
    expect(autoDraftAfterCustomerMessage(w, id)).toBeNull();
    expect(fake.calls).toHaveLength(0);
  });

  it("not configured: a clear message, metered as not_configured", async () => {
    const w = await newWorkspace();
    const id = conversation(w);
    setEnv({ ANTHROPIC_API_KEY: undefined });
    try {
      const error = (() => {
        try {
          requestDraft(w, id, userId);
        } catch (e) {
          return e as Error;
        }
        throw new Error("expected a refusal");
      })();
      expect(error).toBeInstanceOf(AiNotConfiguredError);
      expect(error.message).toBe(
        "The inbox's AI is not configured on this server: set ANTHROPIC_API_KEY.",
      );
      expect(autoDraftAfterCustomerMessage(w, id)).toBeNull();
      expect(usage(w.workspaceId).map((r) => r.outcome)).toEqual(["not_configured"]);
    } finally {
      setEnv({ ANTHROPIC_API_KEY: FAKE_ANTHROPIC_API_KEY });
    }
  });

  it("the hourly inbox budget answers 429 with Retry-After, for drafts, rewrites and summaries alike", async () => {
    setEnv({ AI_INBOX_REQUESTS_PER_HOUR: "3" });
    try {
      const w = await newWorkspace();
      const id = conversation(w);
      await requestDraft(w, id, userId).done;
      await rewriteText(w, "Thanks for waiting", "friendly");
      await summariseConversation(w, id);
      const error = await rejected(rewriteText(w, "Hello", "shorten"));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ status: 429 });
      expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(3_500);
      expect(error.message).toContain("3 inbox AI requests for this hour");
      expect(() => requestDraft(w, id, userId)).toThrow(RateLimitedError);
      expect(autoDraftAfterCustomerMessage(w, id)).toBeNull();
      expect(fake.calls).toHaveLength(3);
      expect(usage(w.workspaceId).map((r) => `${r.purpose}:${r.outcome}`)).toEqual([
        "reply-draft:ok",
        "rewrite:ok",
        "summary:ok",
        "rewrite:rate_limited",
        "reply-draft:rate_limited",
      ]);
      // Another workspace has its own budget.
      const other = await newWorkspace();
      await expect(rewriteText(other, "Hello", "formal")).resolves.toBeTypeOf("string");
    } finally {
      setEnv({ AI_INBOX_REQUESTS_PER_HOUR: "1000" });
    }
  });
});

describe("sending, dismissing and the rates", () => {
  it("markDraftSent runs in the reply's transaction, before the reply's row; rates count it", async () => {
    const w = await newWorkspace();
    const since = new Date(Date.now() - 1_000);
    const sentAsIs = conversation(w);
    const sentEdited = conversation(w);
    const dismissed = conversation(w);
    const overtaken = conversation(w);
    const drafts = [sentAsIs, sentEdited, dismissed, overtaken].map((c) =>
      requestDraft(w, c, userId),
    );
    await Promise.all(drafts.map((d) => d.done));
    const [a, b, c, d] = drafts.map((x) => x.draftId) as [number, number, number, number];

    w.db.transaction((tx) => {
      expect(markDraftSent({ ...w, db: tx }, a, "We deliver Monday to Saturday.\n")).toEqual({
        sent: true,
        edited: false,
      });
    });
    humanReply(w, sentAsIs, userId, "We deliver Monday to Saturday.");
    expect(getDraft(w, a)).toMatchObject({ status: "sent", edited: false });

    // A reply that fails to queue rolls the "sent" back with it.
    expect(() =>
      w.db.transaction((tx) => {
        markDraftSent({ ...w, db: tx }, b, "edited text");
        throw new Error("queueing failed");
      }),
    ).toThrow("queueing failed");
    expect(getDraft(w, b).status).toBe("ready");
    expect(markDraftSent(w, b, "We deliver Mon–Sat, free above ₹499.")).toEqual({
      sent: true,
      edited: true,
    });

    expect(discardDraft(w, c, userId)).toMatchObject({
      status: "discarded",
      discardReason: "Dismissed by a member",
    });
    expect(() => discardDraft(w, d, userId, { conversationId: sentAsIs })).toThrow(/not found/);
    humanReply(w, overtaken, userId);
    expect(markDraftSent(w, d, "late")).toMatchObject({ sent: false });

    expect(draftRates(w, since)).toMatchObject({
      accepted: 1,
      edited: 1,
      discarded: 2,
      failed: 0,
      total: 4,
      acceptedRate: 0.25,
      editedRate: 0.25,
      discardedRate: 0.5,
    });
    expect(draftRates(w, new Date(Date.now() + 60_000))).toMatchObject({
      total: 0,
      acceptedRate: null,
    });
  });
});

describe("automatic drafts, rewrites and summaries", () => {
  it("drafts after a customer message when turned on, once while one is open", async () => {
    const w = await newWorkspace();
    const id = conversation(w);
    expect(autoDraftAfterCustomerMessage(w, id)).toBeNull();
    setInboxAi(w, { aiAutoDraft: true });
    const auto = autoDraftAfterCustomerMessage(w, id);
    expect(auto).not.toBeNull();
    expect(autoDraftAfterCustomerMessage(w, id)).toBeNull();
    await auto!.done;
    expect(getDraft(w, auto!.draftId)).toMatchObject({ status: "ready", requestedBy: null });
    expect(autoDraftAfterCustomerMessage(w, id)).toBeNull();
    expect(usage(w.workspaceId)).toEqual([
      expect.objectContaining({ purpose: "reply-draft", userId: null }),
    ]);
  });

  it("rewrites a text and summarises a conversation in one paragraph, metered by purpose", async () => {
    const w = await newWorkspace();
    const id = conversation(w);
    fake.respondWith((call) =>
      call.system.includes("summarise")
        ? "Priya asks about Sunday delivery\n\nand charges; still open."
        : "Dear customer, we will reply shortly.",
    );
    await expect(rewriteText(w, "wait pls", "formal")).resolves.toBe(
      "Dear customer, we will reply shortly.",
    );
    expect(fake.calls[0]!.messages[0]!.text).toContain("wait pls");
    await expect(summariseConversation(w, id)).resolves.toBe(
      "Priya asks about Sunday delivery and charges; still open.",
    );
    expect(fake.calls[1]!.messages[0]!.text).toContain("Sundays");
    await expect(rewriteText(w, "hi", "sarcastic")).rejects.toThrow(ValidationError);
    await expect(rewriteText(w, "   ", "formal")).rejects.toThrow(ValidationError);
    expect(usage(w.workspaceId).map((r) => r.purpose)).toEqual(["rewrite", "summary"]);
  });
});
