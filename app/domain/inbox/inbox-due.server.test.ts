import { eq, inArray } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { makeTeam, type Team } from "../../../tests/support/teams";
import { getControlDb } from "~/db/control.server";
import { inboxDue, workspaces } from "~/db/schema/control";
import { agentStates, conversations } from "~/db/schema/tenant-inbox";
import { closeAllTenantDbs, openTenantDbCount } from "~/db/tenants.server";
import { createContact } from "../contacts/contacts.server";
import { systemContext, type WorkspaceContext } from "../context";
import { markWorkspaceDeleted, restoreWorkspace } from "../workspaces/deletion.server";
import { openWorkspaceContext } from "../workspaces/access.server";
import { enqueueForAssignment } from "./assignment.server";
import { setConversationStatus } from "./conversations.server";
import { QUEUE_RECHECK_MS } from "./inbox-due.server";
import { readInboxSettings, settingsToInput, updateInboxSettings } from "./inbox-settings.server";
import { loadInboxMember } from "./members.server";
import { inboxMinutely } from "./snooze.server";

const MINUTE = 60_000;
let clock = Date.parse("2031-05-05T09:00:00Z");
const now = () => new Date(clock);

type Agent = "ana";
let quiet: Team<never>;
let snoozy: Team<never>;
let queue: Team<Agent>;
let accountSeq = 0;
const contactOf = new Map<string, number>();

/** A fresh context each time: the tests close every tenant handle to count what a run opens. */
function ctxOf(team: Team<string>): WorkspaceContext {
  return openWorkspaceContext(team.workspace.id, { type: "user", id: team.owner.id }, {}, now);
}

/** A conversation as the inbound path leaves it (open, a customer waiting), plus `fields`. */
function seed(team: Team<string>, fields: Partial<typeof conversations.$inferInsert> = {}) {
  const at = now();
  accountSeq += 1;
  return ctxOf(team)
    .db.insert(conversations)
    .values({
      contactId: contactOf.get(team.workspace.id)!,
      channel: "sms",
      accountKey: `acct-${accountSeq}`,
      status: "open",
      waitingSince: at,
      lastMessageAt: at,
      lastInboundAt: at,
      createdAt: at,
      updatedAt: at,
      ...fields,
    })
    .returning({ id: conversations.id })
    .get().id;
}

function conv(team: Team<string>, id: number) {
  return ctxOf(team).db.select().from(conversations).where(eq(conversations.id, id)).get()!;
}

/** The workspace's due time in the control db, or null without a row. */
function dueAt(team: Team<string>): number | null {
  const row = getControlDb()
    .select()
    .from(inboxDue)
    .where(eq(inboxDue.workspaceId, team.workspace.id))
    .get();
  return row ? row.nextDueAt.getTime() : null;
}

/** Runs the job the way the scheduler does, with every tenant file closed beforehand. */
async function run(job = inboxMinutely) {
  closeAllTenantDbs();
  const result = await job(now());
  return { ...result, opened: openTenantDbCount() };
}

function liveWorkspaceCount(): number {
  return getControlDb()
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(inArray(workspaces.status, ["active", "suspended"]))
    .all().length;
}

beforeAll(async () => {
  quiet = await makeTeam({ owner: "Quinn Quiet", workspace: { slug: "quiet-co" } });
  snoozy = await makeTeam({ owner: "Sam Snooze", workspace: { slug: "snooze-co" } });
  queue = await makeTeam({
    owner: "Quentin Queue",
    workspace: { slug: "queue-co" },
    members: { ana: { name: "Ana Agent", role: "agent" } },
  });
  for (const team of [quiet, snoozy, queue]) {
    const ctx = ctxOf(team);
    contactOf.set(
      team.workspace.id,
      createContact(ctx, { name: "Cara", phone: "+919876543210" }).id,
    );
  }
  const qctx = ctxOf(queue);
  updateInboxSettings(qctx, { ...settingsToInput(readInboxSettings(qctx)), autoAssign: true });
  // This module's process-start sweep happens here, before the tests look at the due list.
  await run();
});

beforeEach(() => {
  clock += 60 * MINUTE;
  for (const team of [quiet, snoozy, queue]) {
    const db = ctxOf(team).db;
    db.delete(conversations).run();
    db.delete(agentStates).run();
  }
  getControlDb().delete(inboxDue).run();
});

describe("the minutely inbox run reads the due list", () => {
  it("opens no workspace file when nothing is snoozed or queued", async () => {
    const result = await run();
    expect(result).toMatchObject({ workspaces: 0, due: 0, failed: 0, woken: 0, assigned: 0 });
    expect(result.opened).toBe(0);
  });

  it("wakes a snooze at its time, not a minute before, and then forgets the workspace", async () => {
    const owner = loadInboxMember(ctxOf(snoozy), snoozy.owner.id, "owner");
    const first = seed(snoozy);
    const second = seed(snoozy);
    const wakeAt = clock + 30 * MINUTE;
    setConversationStatus(ctxOf(snoozy), owner, first, "snoozed", {
      snoozeUntil: new Date(wakeAt),
    });
    setConversationStatus(ctxOf(snoozy), owner, second, "snoozed", {
      snoozeUntil: new Date(wakeAt + 10 * MINUTE),
    });
    expect(dueAt(snoozy)).toBe(wakeAt);

    clock = wakeAt - MINUTE;
    const early = await run();
    expect(early).toMatchObject({ workspaces: 0, due: 0, woken: 0, opened: 0 });
    expect(conv(snoozy, first).status).toBe("snoozed");

    clock = wakeAt;
    const onTime = await run();
    expect(onTime).toMatchObject({ workspaces: 1, due: 1, woken: 1 });
    expect(conv(snoozy, first).status).toBe("open");
    expect(conv(snoozy, second).status).toBe("snoozed");
    // The next snooze still ahead is the new due time.
    expect(dueAt(snoozy)).toBe(wakeAt + 10 * MINUTE);

    clock = wakeAt + 10 * MINUTE;
    expect(await run()).toMatchObject({ workspaces: 1, woken: 1 });
    expect(conv(snoozy, second).status).toBe("open");
    // Nothing snoozed and no auto-assignment in this workspace: its row goes.
    expect(dueAt(snoozy)).toBeNull();
    expect(await run()).toMatchObject({ workspaces: 0, opened: 0 });
  });

  it("keeps a queue nobody can take due every minute, and assigns once an agent is online", async () => {
    const c = seed(queue);
    expect(enqueueForAssignment(ctxOf(queue), c)).toBe(true);
    expect(dueAt(queue)).toBe(clock + QUEUE_RECHECK_MS);

    clock += 30_000;
    expect(await run()).toMatchObject({ workspaces: 0, opened: 0 });

    for (let i = 0; i < 2; i += 1) {
      clock = dueAt(queue)!;
      expect(await run()).toMatchObject({ workspaces: 1, due: 1, assigned: 0 });
      expect(conv(queue, c).queuedAt).not.toBeNull();
      expect(dueAt(queue)).toBe(clock + QUEUE_RECHECK_MS);
    }

    // The agent comes online without anything draining the queue (written directly), so the
    // job's next run is what hands the conversation over.
    ctxOf(queue)
      .db.insert(agentStates)
      .values({
        userId: queue.members.ana.id,
        available: true,
        lastSeenAt: now(),
        updatedAt: now(),
      })
      .run();
    clock = dueAt(queue)!;
    expect(await run()).toMatchObject({ workspaces: 1, assigned: 1 });
    expect(conv(queue, c)).toMatchObject({ assigneeId: queue.members.ana.id, queuedAt: null });
    expect(dueAt(queue)).toBeNull();
    clock += MINUTE;
    expect(await run()).toMatchObject({ workspaces: 0, opened: 0 });
  });

  it("a batch that queues without draining yet marks the workspace due too", async () => {
    const c = seed(queue);
    expect(enqueueForAssignment(ctxOf(queue), c, { drain: false })).toBe(true);
    expect(dueAt(queue)).toBe(clock + QUEUE_RECHECK_MS);
  });

  it("turning auto-assignment on makes the waiting conversations due; turning it off ends it", async () => {
    const ctx = ctxOf(quiet);
    const settings = settingsToInput(readInboxSettings(ctx));
    const c = seed(quiet);
    expect(dueAt(quiet)).toBeNull();
    updateInboxSettings(ctx, { ...settings, autoAssign: true });
    expect(conv(quiet, c).queuedAt).not.toBeNull();
    expect(dueAt(quiet)).toBe(clock + QUEUE_RECHECK_MS);

    updateInboxSettings(ctx, { ...settings, autoAssign: false });
    clock += QUEUE_RECHECK_MS;
    expect(await run()).toMatchObject({ workspaces: 1, assigned: 0 });
    expect(dueAt(quiet)).toBeNull();
  });

  it("sweeps every workspace on a process's first run: a file with no row is still looked at", async () => {
    // As a file restored from a backup leaves it: an expired snooze, a queued conversation and a
    // later snooze, none of them in the due list.
    const expired = seed(snoozy, { status: "snoozed", snoozedUntil: new Date(clock - 5 * MINUTE) });
    const queued = seed(queue, { queuedAt: now() });
    const later = seed(quiet, { status: "snoozed", snoozedUntil: new Date(clock + 90 * MINUTE) });
    ctxOf(queue)
      .db.insert(agentStates)
      .values({
        userId: queue.members.ana.id,
        available: true,
        lastSeenAt: now(),
        updatedAt: now(),
      })
      .run();

    // This process swept already: without rows, nothing is opened.
    expect(await run()).toMatchObject({ workspaces: 0, opened: 0 });
    expect(conv(snoozy, expired).status).toBe("snoozed");

    vi.resetModules();
    const restarted = (await import("./snooze.server")).inboxMinutely;
    const first = await run(restarted);
    expect(first).toMatchObject({
      workspaces: liveWorkspaceCount(),
      failed: 0,
      woken: 1,
      assigned: 1,
    });
    expect(conv(snoozy, expired).status).toBe("open");
    expect(conv(queue, queued).assigneeId).toBe(queue.members.ana.id);
    expect(conv(quiet, later).status).toBe("snoozed");
    expect(dueAt(quiet)).toBe(clock + 90 * MINUTE);
    expect(dueAt(snoozy)).toBeNull();
    expect(dueAt(queue)).toBeNull();

    // Only the first run sweeps.
    expect(await run(restarted)).toMatchObject({ workspaces: 0, opened: 0 });
  });

  it("forgets a deleted workspace, and looks at it again once restored", async () => {
    const gone = await makeTeam({ owner: "Gil Gone", workspace: { slug: "gone-co" } });
    const contact = createContact(ctxOf(gone), { name: "Cy", phone: "+919876543211" });
    contactOf.set(gone.workspace.id, contact.id);
    const owner = loadInboxMember(ctxOf(gone), gone.owner.id, "owner");
    const c = seed(gone);
    setConversationStatus(ctxOf(gone), owner, c, "snoozed", {
      snoozeUntil: new Date(clock + MINUTE),
    });
    expect(dueAt(gone)).toBe(clock + MINUTE);

    markWorkspaceDeleted(systemContext("test", now), gone.workspace.id, "owner");
    expect(dueAt(gone)).toBeNull();
    clock += 2 * MINUTE;
    expect(await run()).toMatchObject({ workspaces: 0, opened: 0 });
    expect(conv(gone, c).status).toBe("snoozed");

    await restoreWorkspace(systemContext("test", now), gone.workspace.id);
    expect(await run()).toMatchObject({ workspaces: 1, woken: 1 });
    expect(conv(gone, c).status).toBe("open");
    expect(dueAt(gone)).toBeNull();
  });
});
