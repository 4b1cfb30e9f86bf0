import { and, asc, desc, eq, isNotNull } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTeam, type Team } from "../../../tests/support/teams";
import { thrown } from "../../../tests/support/errors";
import {
  agentStates,
  aiDrafts,
  conversationActivity,
  conversations,
  inboxNotifications,
  teamMembers,
  teams,
} from "~/db/schema/tenant-inbox";
import { ForbiddenError, ValidationError } from "~/lib/errors";
import { createContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import { setAgentCapacity, setAvailability, touchAgent } from "./agents.server";
import {
  assignConversation,
  drainAssignmentQueue,
  enqueueForAssignment,
  ONLINE_WINDOW_MS,
} from "./assignment.server";
import { readInboxSettings, settingsToInput, updateInboxSettings } from "./inbox-settings.server";
import { subscribeInboxEvents, type InboxEvent } from "./live.server";
import { addTeamMember, createTeam } from "./teams.server";

type Agent = "ana" | "ben" | "cleo" | "dev" | "mia";
let team: Team<Agent>;
let ctx: WorkspaceContext;
let clock = Date.parse("2031-03-03T10:00:00Z");
let contactId: number;
let channelSeq = 0;
const AGENTS: Agent[] = ["ana", "ben", "cleo", "dev"];

const id = (a: Agent) => team.members[a].id;

/** A conversation as the inbound path leaves it: open, waiting, nobody assigned. */
function seedConversation(teamId: number | null = null): number {
  const at = new Date(clock);
  channelSeq += 1;
  return ctx.db
    .insert(conversations)
    .values({
      contactId,
      channel: "sms",
      // One active conversation per contact and account: a fresh account key per seed.
      accountKey: `acct-${channelSeq}`,
      status: "open",
      teamId,
      waitingSince: at,
      lastMessageAt: at,
      lastInboundAt: at,
      createdAt: at,
      updatedAt: at,
    })
    .returning({ id: conversations.id })
    .get().id;
}

function resolve(conversationId: number) {
  ctx.db
    .update(conversations)
    .set({ status: "resolved", resolvedAt: new Date(clock) })
    .where(eq(conversations.id, conversationId))
    .run();
  drainAssignmentQueue(ctx);
}

function conv(conversationId: number) {
  return ctx.db.select().from(conversations).where(eq(conversations.id, conversationId)).get()!;
}

function setSettings(patch: Partial<ReturnType<typeof settingsToInput>>) {
  updateInboxSettings(ctx, { ...settingsToInput(readInboxSettings(ctx)), ...patch });
}

function reset() {
  ctx.db.delete(conversations).run();
  ctx.db.delete(agentStates).run();
  ctx.db.delete(teamMembers).run();
  ctx.db.delete(teams).run();
  setSettings({ autoAssign: true, agentCapacity: 2 });
}

beforeAll(async () => {
  team = await makeTeam({
    owner: "Olga Owner",
    workspace: { slug: "assign-co" },
    members: {
      ana: { name: "Ana Agent", role: "agent" },
      ben: { name: "Ben Agent", role: "agent" },
      cleo: { name: "Cleo Admin", role: "admin" },
      dev: { name: "Dev Agent", role: "agent" },
      mia: { name: "Mia Marketer", role: "marketer" },
    },
  });
  ctx = { ...team.ctx, now: () => new Date(clock) };
  contactId = createContact(ctx, { name: "Cara Customer", phone: "+919876543210" }).id;
});

beforeEach(reset);

describe("manual assignment", () => {
  it("assigns with the actor recorded, notifies the assignee, publishes, and discards AI drafts", () => {
    const c = seedConversation();
    ctx.db
      .insert(aiDrafts)
      .values({ conversationId: c, status: "pending", createdAt: new Date(clock) })
      .run();
    const events: InboxEvent[] = [];
    const off = subscribeInboxEvents(ctx.workspaceId, (e) => events.push(e));
    assignConversation(ctx, id("cleo"), c, { assigneeId: id("ana") });
    off();
    expect(conv(c).assigneeId).toBe(id("ana"));
    const activity = ctx.db
      .select()
      .from(conversationActivity)
      .where(eq(conversationActivity.conversationId, c))
      .all();
    expect(activity.map((a) => [a.kind, a.actorId])).toEqual([["assigned", id("cleo")]]);
    const notes = ctx.db.select().from(inboxNotifications).all();
    expect(notes).toMatchObject([{ userId: id("ana"), kind: "assigned", actorId: id("cleo") }]);
    expect(events.map((e) => e.type).sort()).toEqual(["conversation", "notification"]);
    const draft = ctx.db.select().from(aiDrafts).where(eq(aiDrafts.conversationId, c)).get();
    expect(draft?.status).toBe("discarded");
  });

  it("refuses members who cannot reply, and members outside the conversation's team", () => {
    const sales = createTeam(ctx, "Sales");
    addTeamMember(ctx, sales.id, id("ana"));
    const c = seedConversation(sales.id);
    expect(
      thrown(() => assignConversation(ctx, id("cleo"), c, { assigneeId: id("mia") })),
    ).toBeInstanceOf(ValidationError);
    expect(
      thrown(() => assignConversation(ctx, id("cleo"), c, { assigneeId: id("ben") })),
    ).toBeInstanceOf(ValidationError);
    expect(
      thrown(() => assignConversation(ctx, id("mia"), c, { assigneeId: id("ana") })),
    ).toBeInstanceOf(ForbiddenError);
    expect(conv(c).assigneeId).toBeNull();
    assignConversation(ctx, id("ana"), c, { assigneeId: id("ana") });
    expect(conv(c).assigneeId).toBe(id("ana"));
    // Self-assignment notifies nobody.
    expect(ctx.db.select().from(inboxNotifications).all()).toEqual([]);
  });

  it("unassigning a waiting conversation queues it again and hands it on", () => {
    setAvailability(ctx, id("ben"), true);
    const c = seedConversation();
    assignConversation(ctx, id("cleo"), c, { assigneeId: id("ana") });
    assignConversation(ctx, id("cleo"), c, { assigneeId: null });
    expect(conv(c).assigneeId).toBe(id("ben"));
    const auto = ctx.db
      .select()
      .from(conversationActivity)
      .where(eq(conversationActivity.conversationId, c))
      .orderBy(asc(conversationActivity.id))
      .all()
      .at(-1)!;
    expect([auto.kind, auto.actorId]).toEqual(["assigned", null]);
  });
});

describe("auto-assignment", () => {
  it("capacity full: stays queued; an agent resolves one; the oldest queued is assigned", () => {
    setSettings({ agentCapacity: 1 });
    setAvailability(ctx, id("ana"), true);
    const first = seedConversation();
    expect(enqueueForAssignment(ctx, first)).toBe(false);
    expect(conv(first).assigneeId).toBe(id("ana"));
    clock += 1000;
    const second = seedConversation();
    expect(enqueueForAssignment(ctx, second)).toBe(true);
    clock += 1000;
    const third = seedConversation();
    expect(enqueueForAssignment(ctx, third)).toBe(true);
    expect(conv(second).assigneeId).toBeNull();
    clock += 1000;
    resolve(first);
    expect(conv(second).assigneeId).toBe(id("ana"));
    expect(conv(third).assigneeId).toBeNull();
    expect(conv(third).queuedAt).not.toBeNull();
  });

  it("goes round-robin, least recently assigned first, and skips offline agents", () => {
    setSettings({ agentCapacity: 10 });
    for (const a of ["ana", "ben", "dev"] as const) setAvailability(ctx, id(a), true);
    const got = [1, 2, 3, 4, 5, 6].map(() => {
      clock += 10;
      const c = seedConversation();
      enqueueForAssignment(ctx, c);
      return conv(c).assigneeId;
    });
    expect(new Set(got.slice(0, 3)).size).toBe(3);
    expect(got.slice(3)).toEqual(got.slice(0, 3));
    // Nobody touched the page for longer than the window: everybody is offline.
    clock += ONLINE_WINDOW_MS + 1;
    const waiting = seedConversation();
    expect(enqueueForAssignment(ctx, waiting)).toBe(true);
    expect(touchAgent(ctx, id("dev"))).toEqual({ online: true });
    expect(conv(waiting).assigneeId).toBe(id("dev"));
  });

  it("team conversations only go to the team; one nobody can take does not block the rest", () => {
    const billing = createTeam(ctx, "Billing");
    addTeamMember(ctx, billing.id, id("ben"));
    setAvailability(ctx, id("ana"), true);
    const forBilling = seedConversation(billing.id);
    clock += 1;
    const general = seedConversation();
    enqueueForAssignment(ctx, forBilling);
    enqueueForAssignment(ctx, general);
    expect(conv(forBilling).assigneeId).toBeNull();
    expect(conv(general).assigneeId).toBe(id("ana"));
    setAvailability(ctx, id("ben"), true);
    expect(conv(forBilling).assigneeId).toBe(id("ben"));
  });

  it("a per-agent cap overrides the workspace's; turning auto-assignment off empties the queue", () => {
    setSettings({ agentCapacity: 1 });
    setAvailability(ctx, id("ana"), true);
    const a = seedConversation();
    const b = seedConversation();
    enqueueForAssignment(ctx, a);
    enqueueForAssignment(ctx, b);
    expect(conv(b).assigneeId).toBeNull();
    setAgentCapacity(ctx, id("ana"), 2);
    expect(conv(b).assigneeId).toBe(id("ana"));
    const c = seedConversation();
    enqueueForAssignment(ctx, c);
    expect(conv(c).queuedAt).not.toBeNull();
    setSettings({ autoAssign: false });
    expect(conv(c).queuedAt).toBeNull();
    setSettings({ autoAssign: true });
    expect(conv(c).queuedAt).not.toBeNull();
  });
});

/** Small deterministic PRNG, so a failing sequence can be replayed from its seed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("round-robin with caps (property)", () => {
  /** Recomputed from the tables, independently of the drain's own bookkeeping. */
  function snapshot() {
    const all = ctx.db.select().from(conversations).all();
    const states = ctx.db.select().from(agentStates).all();
    const links = ctx.db.select().from(teamMembers).all();
    const cap = readInboxSettings(ctx).agentCapacity;
    const online = states.filter(
      (s) => s.available && s.lastSeenAt && clock - s.lastSeenAt.getTime() <= ONLINE_WINDOW_MS,
    );
    const load = (u: string) =>
      all.filter((c) => c.assigneeId === u && c.status !== "resolved").length;
    const eligible = (u: string, teamId: number | null) =>
      teamId === null || links.some((l) => l.userId === u && l.teamId === teamId);
    const free = online.filter((s) => load(s.userId) < (s.capacity ?? cap));
    return { all, free, eligible };
  }

  function assertInvariant(step: string, before: Map<number, number>, lastActivity: number) {
    const { all, free, eligible } = snapshot();
    for (const c of all) {
      const waiting = c.status === "open" && c.assigneeId === null && c.waitingSince !== null;
      // Every waiting conversation is in the queue...
      expect(waiting ? c.queuedAt !== null : c.queuedAt === null, `${step}: queue of ${c.id}`).toBe(
        true,
      );
      // ...and nobody who could take it has room.
      if (waiting) {
        const taker = free.find((s) => eligible(s.userId, c.teamId));
        expect(taker?.userId, `${step}: ${c.id} waits while an agent is free`).toBeUndefined();
      }
    }
    // FIFO: nobody was given a conversation while an older one they could take stayed queued.
    const assignedNow = ctx.db
      .select()
      .from(conversationActivity)
      .where(and(eq(conversationActivity.kind, "assigned"), isNotNull(conversationActivity.data)))
      .all()
      .filter((a) => a.id > lastActivity && a.actorId === null && before.has(a.conversationId));
    for (const a of assignedNow) {
      const agent = (JSON.parse(a.data!) as { assigneeId: string }).assigneeId;
      const queuedAt = before.get(a.conversationId)!;
      for (const c of all) {
        if (c.queuedAt === null || !before.has(c.id)) continue;
        if (c.queuedAt.getTime() < queuedAt && eligible(agent, c.teamId)) {
          throw new Error(`${step}: ${c.id} (older) skipped for ${a.conversationId}`);
        }
      }
    }
  }

  it.each([1, 7, 42, 2024])(
    "holds over random arrivals, resolutions and availability (seed %i)",
    (seed) => {
      const random = mulberry32(seed);
      const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
      const support = createTeam(ctx, "Support");
      const sales = createTeam(ctx, "Sales");
      addTeamMember(ctx, support.id, id("ana"));
      addTeamMember(ctx, support.id, id("ben"));
      addTeamMember(ctx, sales.id, id("ben"));
      addTeamMember(ctx, sales.id, id("cleo"));
      setSettings({ agentCapacity: 1 + Math.floor(random() * 3) });
      const teamChoices = [null, null, support.id, sales.id];
      for (let step = 0; step < 150; step++) {
        clock += Math.floor(random() * 20_000);
        const queuedBefore = new Map(
          ctx.db
            .select({ id: conversations.id, queuedAt: conversations.queuedAt })
            .from(conversations)
            .where(isNotNull(conversations.queuedAt))
            .all()
            .map((c) => [c.id, c.queuedAt!.getTime()]),
        );
        const lastActivity =
          ctx.db
            .select({ id: conversationActivity.id })
            .from(conversationActivity)
            .orderBy(desc(conversationActivity.id))
            .get()?.id ?? 0;
        const roll = random();
        const open = ctx.db
          .select()
          .from(conversations)
          .where(eq(conversations.status, "open"))
          .all();
        let label: string;
        if (roll < 0.35) {
          const c = seedConversation(pick(teamChoices));
          enqueueForAssignment(ctx, c);
          label = `arrive ${c}`;
        } else if (roll < 0.55 && open.length) {
          const c = pick(open);
          resolve(c.id);
          label = `resolve ${c.id}`;
        } else if (roll < 0.7) {
          const a = pick(AGENTS);
          setAvailability(ctx, id(a), random() < 0.6);
          label = `availability ${a}`;
        } else if (roll < 0.85) {
          const a = pick(AGENTS);
          touchAgent(ctx, id(a));
          label = `touch ${a}`;
        } else if (roll < 0.9) {
          const a = pick(AGENTS);
          setAgentCapacity(ctx, id(a), random() < 0.5 ? null : 1 + Math.floor(random() * 3));
          label = `capacity ${a}`;
        } else if (roll < 0.95 && open.some((c) => c.assigneeId)) {
          const c = pick(open.filter((o) => o.assigneeId));
          assignConversation(ctx, id("cleo"), c.id, { assigneeId: null });
          label = `unassign ${c.id}`;
        } else {
          // The minutely job: agents who went quiet drop out, nothing else changes.
          clock += ONLINE_WINDOW_MS;
          drainAssignmentQueue(ctx);
          label = "job";
        }
        assertInvariant(`seed ${seed} step ${step} (${label})`, queuedBefore, lastActivity);
      }
      // The run exercised both sides: some conversations were assigned, some had to wait.
      const activity = ctx.db.select().from(conversationActivity).all();
      expect(
        activity.filter((a) => a.kind === "assigned" && a.actorId === null).length,
      ).toBeGreaterThan(5);
    },
  );
});
