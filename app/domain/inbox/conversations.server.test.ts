import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { inboundMessages, messages } from "~/db/schema/tenant";
import { conversationActivity, conversations, teams } from "~/db/schema/tenant-inbox";
import { NotFoundError } from "~/lib/errors";
import { giveConsent, insertContact } from "../../../tests/support/contacts";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { queueMessages } from "../delivery/outbox.server";
import {
  conversationForInbound,
  getConversation,
  linkInbound,
  listConversations,
  setConversationStatus,
} from "./conversations.server";
import { conversationThread } from "./thread.server";
import type { InboxMember } from "./members.server";

/** Conversations on a real tenant file: joining, reopening, scoping, paging and search. */

const DAY = 24 * 60 * 60_000;
let clock = Date.UTC(2026, 5, 1, 9, 0, 0);
let ctx: WorkspaceContext;
let seq = 0;

const owner: InboxMember = { userId: "u-owner", name: "Owner", role: "owner", teamIds: [] };

/** The customer writes (stored as the webhook stores it, then joined to a conversation). */
function customerWrites(contactId: number, text: string, at = clock, integrationId = null) {
  return ctx.db.transaction(() => {
    const row = ctx.db
      .insert(inboundMessages)
      .values({
        contactId,
        channel: "whatsapp",
        integrationId,
        sender: "+910000000000",
        text,
        providerMessageId: `p-${++seq}`,
        at: new Date(at),
      })
      .returning({ id: inboundMessages.id })
      .get();
    const joined = conversationForInbound(ctx.db, {
      contactId,
      channel: "whatsapp",
      integrationId,
      at: new Date(at),
      preview: text,
      reopenWithinDays: 7,
    });
    linkInbound(ctx.db, row.id, joined.conversationId, null);
    return joined;
  });
}

function conversationRows(contactId: number) {
  return ctx.db.select().from(conversations).where(eq(conversations.contactId, contactId)).all();
}

beforeEach(async () => {
  clock = Date.UTC(2026, 5, 1, 9, 0, 0);
  ctx = await makeWorkspace(`inbox-${++seq}`, { now: () => new Date(clock) });
});

describe("inbound messages", () => {
  it("creates a conversation, joins it while active, and wakes a snoozed one", () => {
    const contact = insertContact(ctx.db, { name: "Asha", phone: "+919800000001" });
    const first = customerWrites(contact, "Hello");
    expect(first).toMatchObject({ created: true, reopened: false });
    clock += 60_000;
    const second = customerWrites(contact, "Anyone there?");
    expect(second).toEqual({
      conversationId: first.conversationId,
      created: false,
      reopened: false,
    });
    const [row] = conversationRows(contact);
    expect(row).toMatchObject({
      status: "open",
      preview: "Anyone there?",
      waitingSince: new Date(clock - 60_000),
      lastInboundAt: new Date(clock),
    });
    setConversationStatus(ctx, owner, first.conversationId, "snoozed", { snoozeUntil: null });
    clock += 60_000;
    customerWrites(contact, "Still waiting");
    expect(conversationRows(contact)).toHaveLength(1);
    expect(conversationRows(contact)[0]!.status).toBe("open");
  });

  it("reopens a conversation resolved within the N days, else starts a new one", () => {
    const contact = insertContact(ctx.db, { name: "Ravi", phone: "+919800000002" });
    const { conversationId } = customerWrites(contact, "Hi");
    setConversationStatus(ctx, owner, conversationId, "resolved");
    clock += 6 * DAY;
    const again = customerWrites(contact, "One more thing");
    expect(again).toEqual({ conversationId, created: false, reopened: true });
    expect(conversationRows(contact)[0]).toMatchObject({ status: "open", resolvedAt: null });
    const kinds = ctx.db
      .select({ kind: conversationActivity.kind })
      .from(conversationActivity)
      .where(eq(conversationActivity.conversationId, conversationId))
      .all()
      .map((r) => r.kind);
    expect(kinds).toEqual(["created", "status", "reopened"]);

    setConversationStatus(ctx, owner, conversationId, "resolved");
    clock += 8 * DAY;
    const fresh = customerWrites(contact, "Back after a while");
    expect(fresh.created).toBe(true);
    expect(fresh.conversationId).not.toBe(conversationId);
    expect(
      conversationRows(contact)
        .map((c) => c.status)
        .sort(),
    ).toEqual(["open", "resolved"]);
  });

  it("keeps one active conversation per contact, channel and account", () => {
    const contact = insertContact(ctx.db, { name: "Meera", phone: "+919800000003" });
    customerWrites(contact, "On the sandbox");
    customerWrites(contact, "On the real number", clock, "int-1" as never);
    expect(
      conversationRows(contact)
        .map((c) => c.accountKey)
        .sort(),
    ).toEqual(["", "int-1"]);
    const insertSecond = () =>
      ctx.db
        .insert(conversations)
        .values({
          contactId: contact,
          channel: "whatsapp",
          accountKey: "",
          status: "pending",
          lastMessageAt: new Date(clock),
          createdAt: new Date(clock),
          updatedAt: new Date(clock),
        })
        .run();
    expect(thrown(insertSecond).message).toMatch(/UNIQUE/);
  });
});

describe("outbound messages", () => {
  it("a template queued from the contact page joins the open conversation", () => {
    const contact = insertContact(ctx.db, { name: "Kiran", phone: "+919800000004" });
    const { conversationId } = customerWrites(contact, "Where is my order?");
    const summary = queueMessages(ctx, [
      {
        contactId: contact,
        channel: "whatsapp",
        kind: "service",
        content: {
          channel: "whatsapp",
          type: "template",
          name: "order",
          language: "en",
          bodyParams: ["#12"],
        },
      },
    ]);
    expect(conversationRows(contact)).toHaveLength(1);
    const message = ctx.db.select().from(messages).where(eq(messages.id, summary.ids[0]!)).get();
    expect(message?.conversationId).toBe(conversationId);
    const thread = conversationThread(ctx, conversationId);
    expect(thread.items.map((i) => i.type)).toEqual(["event", "in", "out"]);
  });

  it("a campaign message joins an active conversation but never creates one", () => {
    const quiet = insertContact(ctx.db, { name: "Quiet", phone: "+919800000005" });
    const talking = insertContact(ctx.db, { name: "Talking", phone: "+919800000006" });
    giveConsent(ctx.db, quiet, "whatsapp", "granted", "test");
    giveConsent(ctx.db, talking, "whatsapp", "granted", "test");
    const { conversationId } = customerWrites(talking, "Hi");
    const content = {
      channel: "whatsapp" as const,
      type: "template" as const,
      name: "sale",
      language: "en",
      bodyParams: [],
    };
    const summary = queueMessages(ctx, [
      { contactId: quiet, channel: "whatsapp", kind: "marketing", content },
      { contactId: talking, channel: "whatsapp", kind: "marketing", content },
    ]);
    expect(summary.queued).toBe(2);
    expect(conversationRows(quiet)).toEqual([]);
    const rows = ctx.db.select().from(messages).all();
    expect(rows.find((m) => m.contactId === quiet)?.conversationId).toBeNull();
    expect(rows.find((m) => m.contactId === talking)?.conversationId).toBe(conversationId);
  });
});

describe("who sees what", () => {
  it("an agent of team A gets a 404 for team B's conversation, as for a missing one", () => {
    const teamA = ctx.db
      .insert(teams)
      .values({ name: "A", createdAt: new Date(clock) })
      .returning()
      .get();
    const teamB = ctx.db
      .insert(teams)
      .values({ name: "B", createdAt: new Date(clock) })
      .returning()
      .get();
    const inA = customerWrites(
      insertContact(ctx.db, { name: "A1", phone: "+919800000011" }),
      "a",
    ).conversationId;
    const inB = customerWrites(
      insertContact(ctx.db, { name: "B1", phone: "+919800000012" }),
      "b",
    ).conversationId;
    const loose = customerWrites(
      insertContact(ctx.db, { name: "C1", phone: "+919800000013" }),
      "c",
    ).conversationId;
    ctx.db.update(conversations).set({ teamId: teamA.id }).where(eq(conversations.id, inA)).run();
    ctx.db.update(conversations).set({ teamId: teamB.id }).where(eq(conversations.id, inB)).run();
    const agent: InboxMember = {
      userId: "u-agent",
      name: "Agent",
      role: "agent",
      teamIds: [teamA.id],
    };
    expect(getConversation(ctx, agent, inA).id).toBe(inA);
    expect(getConversation(ctx, agent, loose).id).toBe(loose);
    expect(thrown(() => getConversation(ctx, agent, inB))).toBeInstanceOf(NotFoundError);
    expect(thrown(() => getConversation(ctx, agent, 99_999))).toBeInstanceOf(NotFoundError);
    const listed = listConversations(ctx, agent, { view: "all", status: "open", order: "newest" });
    expect(listed.rows.map((r) => r.id).sort()).toEqual([inA, loose].sort());
    // Assigned to them personally, another team's conversation becomes theirs to see.
    ctx.db
      .update(conversations)
      .set({ assigneeId: "u-agent" })
      .where(eq(conversations.id, inB))
      .run();
    expect(getConversation(ctx, agent, inB).id).toBe(inB);
    expect(getConversation(ctx, owner, inB).team?.name).toBe("B");
  });
});

describe("the list", () => {
  it("pages by cursor without repeats or gaps, newest first and oldest waiting first", () => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock += 60_000;
      ids.push(
        customerWrites(insertContact(ctx.db, { name: `P${i}`, phone: `+91980000010${i}` }), `m${i}`)
          .conversationId,
      );
    }
    const walk = (order: "newest" | "oldest-waiting") => {
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = listConversations(
          ctx,
          owner,
          { view: "all", status: "open", order, cursor },
          3,
        );
        expect(page.rows.length).toBeLessThanOrEqual(3);
        seen.push(...page.rows.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    };
    expect(walk("newest")).toEqual([...ids].reverse());
    expect(walk("oldest-waiting")).toEqual(ids);
    expect(
      listConversations(ctx, owner, { view: "unassigned", status: "resolved", order: "newest" })
        .rows,
    ).toEqual([]);
  });

  it("lists oldest waiting first, then those nobody waits on, across page boundaries", () => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock += 60_000;
      ids.push(
        customerWrites(insertContact(ctx.db, { name: `W${i}`, phone: `+91980000030${i}` }), `w${i}`)
          .conversationId,
      );
    }
    // Answered: nobody waits on these any more. The second one also waits longest of the rest.
    const answered = [ids[1]!, ids[4]!, ids[5]!];
    for (const id of answered) {
      ctx.db
        .update(conversations)
        .set({ waitingSince: null })
        .where(eq(conversations.id, id))
        .run();
    }
    ctx.db
      .update(conversations)
      .set({ waitingSince: new Date(Date.UTC(2026, 0, 1)) })
      .where(eq(conversations.id, ids[6]!))
      .run();
    const expected = [ids[6]!, ids[0]!, ids[2]!, ids[3]!, ...answered];
    for (const size of [1, 2, 3, 4, 50]) {
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = listConversations(
          ctx,
          owner,
          { view: "all", status: "open", order: "oldest-waiting", cursor },
          size,
        );
        expect(page.rows.length).toBeLessThanOrEqual(size);
        seen.push(...page.rows.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(expected);
    }
  });

  it("searches by contact name and by what the customer wrote", () => {
    const priya = customerWrites(
      insertContact(ctx.db, { name: "Priya Shah", phone: "+919800000201" }),
      "Refund for my order please",
    ).conversationId;
    const other = customerWrites(
      insertContact(ctx.db, { name: "Dev", phone: "+919800000202" }),
      "Delivery was late",
    ).conversationId;
    const search = (q: string) =>
      listConversations(ctx, owner, { view: "all", status: "open", order: "newest", q }).rows.map(
        (r) => r.id,
      );
    expect(search("pri")).toEqual([priya]);
    expect(search("refund")).toEqual([priya]);
    expect(search("deliv")).toEqual([other]);
    // Operators and quotes are words, not query syntax.
    expect(search('late" OR refund*')).toEqual([]);
    expect(search("zzz")).toEqual([]);
  });
});
