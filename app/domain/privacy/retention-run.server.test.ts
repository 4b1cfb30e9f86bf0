import { eq } from "drizzle-orm";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import {
  aiUsage,
  apiKeys,
  auditLog,
  dsarRequests,
  dsarTasks,
  integrations,
  memberships,
  sessions,
  subjectIndex,
  usageDaily,
  users,
  workspaces,
} from "~/db/schema/control";
import { contacts, messageContents, messages, webhookEvents } from "~/db/schema/tenant";
import { aiDrafts, conversations } from "~/db/schema/tenant-inbox";
import { getTenantDb, tenantDbPath } from "~/db/tenants.server";
import { lastJobRun } from "~/domain/operations/job-runs.server";
import { retention } from "~/jobs/retention.server";
import { runJob } from "~/jobs/runner.server";
import { getEnv } from "~/lib/env.server";
import { closeAccount } from "../accounts/closure.server";
import { appendLedger, ledgerByKey } from "../billing/ledger.server";
import { createSession } from "../accounts/sessions.server";
import { createUserByOperator } from "../admin/admin.server";
import { recordAudit, verifyAuditChain } from "../audit/audit.server";
import { cliContext, systemContext, type SystemContext } from "../context";
import { createApiKey } from "../workspaces/api-keys.server";
import { markWorkspaceDeleted, restoreWorkspace } from "../workspaces/deletion.server";
import { createWorkspace, type Workspace } from "../workspaces/workspaces.server";
import { yearsBefore } from "./retention-policy";
import { readWorkspaceRetentionRuns, runRetention } from "./retention-run.server";
import { indexSubjects } from "./subject-index.server";

/**
 * The retention run deletes exactly what is due: each boundary is crossed by moving the clock
 * (one day short of the period, one day past it), never by waiting.
 */

const DAY = 24 * 3_600_000;
const NOW = new Date();
const days = (n: number) => new Date(NOW.getTime() - n * DAY);
const later = (n: number) => new Date(NOW.getTime() + n * DAY);
const MINUTE = 60_000;
const ctxAt = (at: Date): SystemContext => cliContext(() => at);

let seq = 0;
async function person(name: string) {
  seq += 1;
  const password = `plum orbit saddle ${seq} lantern`;
  const user = await createUserByOperator(ctxAt(NOW), {
    email: `person${seq}@example.com`,
    name,
    password,
  });
  return { ...user, password };
}

function workspaceFor(ownerId: string, slug: string): Workspace {
  return createWorkspace({ ...ctxAt(NOW), actor: { type: "user", id: ownerId } }, ownerId, {
    slug,
    name: `Workspace ${slug}`,
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });
}

function integrationFor(workspaceId: string): string {
  const id = `int_${workspaceId.slice(3)}`;
  getControlDb()
    .insert(integrations)
    .values({
      id,
      workspaceId,
      channel: "sms",
      provider: "sms",
      configEnc: "x",
      ratePerSecond: 1,
      updatedAt: NOW,
    })
    .run();
  return id;
}

// The audit rows at the edges of 7 years come first, as old rows do: the chain stays whole
// after the oldest are removed.
beforeAll(() => {
  const sys = systemContext("test-old");
  recordAudit(
    { ...sys, now: () => new Date(yearsBefore(NOW, 7).getTime() - DAY) },
    {
      action: "test.seven_years_and_a_day",
    },
  );
  recordAudit(
    { ...sys, now: () => new Date(yearsBefore(NOW, 7).getTime() + DAY) },
    {
      action: "test.seven_years_less_a_day",
    },
  );
});

describe("audit and billing rows (7 years)", () => {
  it("deletes rows older than 7 years by a day and keeps those a day younger", async () => {
    const owner = await person("Billing Owner");
    const ws = workspaceFor(owner.id, "billing-co");
    const db = getControlDb();
    const oldDay = new Date(yearsBefore(NOW, 7).getTime() - DAY).toISOString().slice(0, 10);
    const keptDay = new Date(yearsBefore(NOW, 7).getTime() + DAY).toISOString().slice(0, 10);
    db.insert(usageDaily)
      .values({ workspaceId: ws.id, day: oldDay, channel: "sms", messages: 3 })
      .run();
    db.insert(usageDaily)
      .values({ workspaceId: ws.id, day: keptDay, channel: "sms", messages: 4 })
      .run();
    for (const at of [
      new Date(yearsBefore(NOW, 7).getTime() - DAY),
      new Date(yearsBefore(NOW, 7).getTime() + DAY),
    ]) {
      db.insert(aiUsage)
        .values({
          workspaceId: ws.id,
          userId: owner.id,
          at,
          model: "m",
          purpose: "copy",
          outcome: "ok",
        })
        .run();
    }

    for (const [key, at] of [
      ["ledger-old", new Date(yearsBefore(NOW, 7).getTime() - DAY)],
      ["ledger-kept", new Date(yearsBefore(NOW, 7).getTime() + DAY)],
    ] as const) {
      appendLedger(
        systemContext("test-billing", () => at),
        {
          workspaceId: ws.id,
          kind: "payment",
          amount: 199_900,
          currency: "INR",
          idempotencyKey: key,
        },
      );
    }

    const counts = await runRetention(NOW);
    expect(counts.auditRowsDeleted).toBe(1);
    expect(counts.billingLedgerRowsDeleted).toBe(1);
    expect(ledgerByKey("ledger-old")).toBeUndefined();
    expect(ledgerByKey("ledger-kept")).toBeDefined();
    expect(counts.usageRowsDeleted).toBe(1);
    expect(counts.aiUsageRowsDeleted).toBe(1);
    const actions = db
      .select({ action: auditLog.action })
      .from(auditLog)
      .all()
      .map((r) => r.action);
    expect(actions).not.toContain("test.seven_years_and_a_day");
    expect(actions).toContain("test.seven_years_less_a_day");
    expect(db.select().from(usageDaily).where(eq(usageDaily.workspaceId, ws.id)).all()).toEqual([
      expect.objectContaining({ day: keptDay, messages: 4 }),
    ]);
    expect(db.select().from(aiUsage).where(eq(aiUsage.workspaceId, ws.id)).all()).toHaveLength(1);
    // The chain now starts at the first remaining row and still verifies.
    expect(verifyAuditChain().ok).toBe(true);
  });
});

describe("closed accounts (90 days)", () => {
  it("keeps a closed account at 89 days and deletes it at 91, keeping audit and billing rows", async () => {
    const user = await person("Closing Person");
    const keeper = await person("Active Person");
    const ws = workspaceFor(user.id, "closing-alone");
    getControlDb()
      .insert(aiUsage)
      .values({
        workspaceId: ws.id,
        userId: user.id,
        at: NOW,
        model: "m",
        purpose: "copy",
        outcome: "ok",
      })
      .run();
    createSession(ctxAt(NOW), keeper.id);
    await closeAccount(
      ctxAt(NOW),
      user.id,
      { confirmEmail: user.email, password: user.password },
      { authenticatedAt: NOW },
    );

    const at89 = await runRetention(later(89));
    expect(at89.accountsDeleted).toBe(0);
    expect(getControlDb().select().from(users).where(eq(users.id, user.id)).get()?.status).toBe(
      "closed",
    );

    const at91 = await runRetention(later(91));
    expect(at91.accountsDeleted).toBe(1);
    const db = getControlDb();
    expect(db.select().from(users).where(eq(users.id, user.id)).get()).toBeUndefined();
    expect(db.select().from(memberships).where(eq(memberships.userId, user.id)).all()).toEqual([]);
    // Billing stays, without the person; audit rows keep only the id.
    const usage = db.select().from(aiUsage).where(eq(aiUsage.workspaceId, ws.id)).all();
    expect(usage).toHaveLength(1);
    expect(usage[0]!.userId).toBeNull();
    const audit = db.select().from(auditLog).where(eq(auditLog.targetId, user.id)).all();
    expect(audit.map((r) => r.action)).toEqual(
      expect.arrayContaining(["account.closed", "account.purged"]),
    );
    expect(JSON.stringify(audit)).not.toContain(user.email);
    expect(JSON.stringify(audit)).not.toContain(user.name);
    // Nobody else is touched.
    expect(db.select().from(users).where(eq(users.id, keeper.id)).get()?.status).toBe("active");
    expect(db.select().from(sessions).where(eq(sessions.userId, keeper.id)).all()).toHaveLength(1);
  });
});

describe("deleted workspaces (30 days)", () => {
  it("keeps a deleted workspace's data until day 29 and purges it from then, leaving others alone", async () => {
    const owner = await person("Deleting Owner");
    const gone = workspaceFor(owner.id, "gone-co");
    const kept = workspaceFor(owner.id, "kept-co");
    const db = getControlDb();
    indexSubjects(gone.id, ["hash-gone"]);
    indexSubjects(kept.id, ["hash-kept"]);
    integrationFor(gone.id);
    integrationFor(kept.id);
    createApiKey({ ...ctxAt(NOW), userId: owner.id }, gone.id, { name: "k", role: "admin" });
    db.insert(usageDaily)
      .values({ workspaceId: gone.id, day: "2030-01-01", channel: "sms", messages: 1 })
      .run();
    // A copy set aside by a restore, and an upload folder.
    const dataDir = getEnv().DATA_DIR;
    const aside = join(dataDir, "pre-restore-2030-01-01T00-00-00-000Z", "tenants");
    mkdirSync(aside, { recursive: true });
    writeFileSync(join(aside, `${gone.id}.db`), "copy");
    writeFileSync(join(aside, `${kept.id}.db`), "copy");
    mkdirSync(join(dataDir, "uploads", gone.id), { recursive: true });
    writeFileSync(join(dataDir, "uploads", gone.id, "a.csv"), "email\n");
    getTenantDb(gone.id); // an open cached handle, with -wal/-shm on disk

    markWorkspaceDeleted(ctxAt(NOW), gone.id, "owner");
    const before = await runRetention(new Date(later(29).getTime() - MINUTE));
    expect(before.workspacesPurged).toBe(0);
    expect(existsSync(tenantDbPath(gone.id))).toBe(true);

    // The job runs daily, so purging from day 29 on keeps the policy's "within 30 days".
    const after = await runRetention(new Date(later(29).getTime() + MINUTE));
    expect(after).toMatchObject({
      workspacesPurged: 1,
      tenantFilesRemoved: 1,
      backupFilesRemoved: 1,
      subjectEntriesDropped: 1,
    });
    for (const suffix of ["", "-wal", "-shm"]) {
      expect(existsSync(tenantDbPath(gone.id) + suffix)).toBe(false);
    }
    expect(existsSync(join(aside, `${gone.id}.db`))).toBe(false);
    expect(existsSync(join(dataDir, "uploads", gone.id))).toBe(false);
    expect(existsSync(tenantDbPath(kept.id))).toBe(true);
    expect(existsSync(join(aside, `${kept.id}.db`))).toBe(true);
    expect(
      db.select().from(subjectIndex).where(eq(subjectIndex.workspaceId, gone.id)).all(),
    ).toEqual([]);
    expect(
      db.select().from(subjectIndex).where(eq(subjectIndex.workspaceId, kept.id)).all(),
    ).toHaveLength(1);
    expect(
      db.select().from(integrations).where(eq(integrations.workspaceId, gone.id)).all(),
    ).toEqual([]);
    expect(
      db.select().from(integrations).where(eq(integrations.workspaceId, kept.id)).all(),
    ).toHaveLength(1);
    expect(db.select().from(apiKeys).where(eq(apiKeys.workspaceId, gone.id)).all()).toEqual([]);
    expect(db.select().from(memberships).where(eq(memberships.workspaceId, gone.id)).all()).toEqual(
      [],
    );
    // The tombstone keeps the billing rows; its address is free again.
    const tombstone = db.select().from(workspaces).where(eq(workspaces.id, gone.id)).get()!;
    expect(tombstone.status).toBe("deleted");
    expect(tombstone.slug).toBe(gone.id);
    expect(
      db.select().from(usageDaily).where(eq(usageDaily.workspaceId, gone.id)).all(),
    ).toHaveLength(1);
    // Purged once: the next run finds nothing more to do, and the workspace cannot come back.
    expect((await runRetention(later(32))).workspacesPurged).toBe(0);
    await expect(restoreWorkspace(ctxAt(later(32)), gone.id)).rejects.toThrow(
      /no longer be restored/,
    );
  });

  it("lets an admin restore inside the window only", async () => {
    const owner = await person("Restoring Owner");
    const ws = workspaceFor(owner.id, "restore-co");
    markWorkspaceDeleted(ctxAt(NOW), ws.id, "owner");
    await expect(
      restoreWorkspace(ctxAt(new Date(later(29).getTime() + MINUTE)), ws.id),
    ).rejects.toThrow(/no longer be restored/);
    await restoreWorkspace(ctxAt(new Date(later(29).getTime() - MINUTE)), ws.id);
    const row = getControlDb().select().from(workspaces).where(eq(workspaces.id, ws.id)).get()!;
    expect(row.status).toBe("active");
    expect(row.deletedAt).toBeNull();
  });
});

describe("deleted workspaces: the daily run keeps the 30 days", () => {
  it("purges on the last daily run before day 30, whatever the time of day it runs", async () => {
    const owner = await person("Daily Owner");
    // The daily run comes 1 minute, 12 hours or 23 h 59 min after the hour of deletion.
    for (const [i, offset] of [MINUTE, 12 * 60 * MINUTE, DAY - MINUTE].entries()) {
      const ws = workspaceFor(owner.id, `daily-${i}`);
      markWorkspaceDeleted(ctxAt(NOW), ws.id, "owner");
      let purgedAt: number | null = null;
      for (let day = 0; day <= 30 && purgedAt === null; day++) {
        const at = NOW.getTime() + day * DAY + offset;
        if ((await runRetention(new Date(at))).workspacesPurged > 0) purgedAt = at;
      }
      expect(purgedAt).not.toBeNull();
      expect(purgedAt! - NOW.getTime()).toBeLessThanOrEqual(30 * DAY);
      expect(existsSync(tenantDbPath(ws.id))).toBe(false);
    }
  });
});

describe("delivery data in each workspace file", () => {
  it("clears message content after 90 days and deletes webhook events after 30, recording counts", async () => {
    const owner = await person("Sender");
    const ws = workspaceFor(owner.id, "sender-co");
    const tdb = getTenantDb(ws.id);
    const message = (id: string, createdAt: Date, status: "sent" | "queued" = "sent") => {
      tdb
        .insert(messages)
        .values({
          id,
          channel: "sms",
          kind: "marketing",
          recipient: "+919800000001",
          status,
          nextAttemptAt: createdAt,
          createdAt,
          updatedAt: createdAt,
        })
        .run();
      tdb
        .insert(messageContents)
        .values({ messageId: id, content: JSON.stringify({ channel: "sms", text: "Hello" }) })
        .run();
    };
    message("msg_old", days(91));
    message("msg_young", days(89));
    message("msg_old_queued", days(91), "queued");
    const event = (eventId: string, receivedAt: Date, processedAt: Date | null) =>
      tdb
        .insert(webhookEvents)
        .values({ integrationId: "int_x", eventId, event: "{}", receivedAt, processedAt })
        .run();
    event("e-old", days(31), days(31));
    event("e-young", days(29), days(29));
    event("e-old-pending", days(31), null);

    const result = await runJob(retention, "cli", () => NOW);
    expect(result.outcome).toBe("ok");
    const byId = (id: string) => tdb.select().from(messages).where(eq(messages.id, id)).get()!;
    const contentOf = (id: string) =>
      tdb
        .select({ content: messageContents.content })
        .from(messageContents)
        .where(eq(messageContents.messageId, id))
        .get()?.content;
    expect(byId("msg_old")).toMatchObject({ recipient: "", status: "sent" });
    expect(contentOf("msg_old")).toBeUndefined();
    expect(byId("msg_young").recipient).toBe("+919800000001");
    expect(contentOf("msg_young")).toContain("Hello");
    expect(contentOf("msg_old_queued")).toContain("Hello");
    expect(byId("msg_old_queued").recipient).toBe("+919800000001");
    expect(
      tdb
        .select({ eventId: webhookEvents.eventId })
        .from(webhookEvents)
        .all()
        .map((e) => e.eventId),
    ).toEqual(["e-young"]);

    const run = readWorkspaceRetentionRuns({ db: tdb })[0]!;
    expect(run).toMatchObject({ messagesCleared: 1, webhookEventsDeleted: 2 });
    const counts = JSON.parse(lastJobRun("retention")!.counts!) as Record<string, number>;
    expect(counts.messagesCleared).toBeGreaterThanOrEqual(1);
    expect(counts.webhookEventsDeleted).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(counts)).not.toContain("+9198");

    // The next day only the newly due message goes.
    const next = await runRetention(later(2));
    expect(next.messagesCleared).toBe(1);
    expect(byId("msg_young").recipient).toBe("");
  });
});

describe("AI reply drafts in each workspace file", () => {
  it("clears a draft's text 30 days after it was made, closing stale ones, and keeps the outcome", async () => {
    const owner = await person("Drafter");
    const ws = workspaceFor(owner.id, "drafter-co");
    const tdb = getTenantDb(ws.id);
    const contactId = tdb
      .insert(contacts)
      .values({
        name: "Asha",
        nameKey: "asha",
        phone: "+919800000002",
        createdAt: NOW,
        updatedAt: NOW,
      })
      .returning({ id: contacts.id })
      .get().id;
    const conversationId = tdb
      .insert(conversations)
      .values({
        contactId,
        channel: "whatsapp",
        accountKey: "",
        status: "open",
        lastMessageAt: NOW,
        createdAt: NOW,
        updatedAt: NOW,
      })
      .returning({ id: conversations.id })
      .get().id;
    const draft = (status: "ready" | "sent" | "discarded", createdAt: Date, edited?: boolean) =>
      tdb
        .insert(aiDrafts)
        .values({ conversationId, status, body: "Your order ships Monday.", edited, createdAt })
        .returning({ id: aiDrafts.id })
        .get().id;
    const oldSent = draft("sent", days(31), true);
    const oldReady = draft("ready", days(31));
    const oldDiscarded = draft("discarded", days(31));
    const young = draft("ready", days(29));

    const run = await runRetention(NOW);

    const byId = (id: number) => tdb.select().from(aiDrafts).where(eq(aiDrafts.id, id)).get()!;
    expect(byId(oldSent)).toMatchObject({ body: "", status: "sent", edited: true });
    expect(byId(oldReady)).toMatchObject({
      body: "",
      status: "discarded",
      discardReason: "Expired",
    });
    expect(byId(oldDiscarded)).toMatchObject({ body: "", status: "discarded" });
    expect(byId(young)).toMatchObject({ body: "Your order ships Monday.", status: "ready" });
    expect(run.aiDraftsCleared).toBeGreaterThanOrEqual(3);
    expect(readWorkspaceRetentionRuns({ db: tdb })[0]).toMatchObject({ aiDraftsCleared: 3 });
  });
});

describe("privacy requests", () => {
  it("expires unverified requests after 7 days and deletes expired export bundles", async () => {
    const db = getControlDb();
    const request = (id: string, receivedAt: Date) =>
      db
        .insert(dsarRequests)
        .values({
          id,
          type: "access",
          emailEnc: "enc",
          emailHash: `h-${id}`,
          source: "portal",
          status: "unverified",
          verifyTokenHash: `t-${id}`,
          receivedAt,
          dueAt: new Date(receivedAt.getTime() + 30 * DAY),
        })
        .run();
    request("dsar_old", days(8));
    request("dsar_young", days(6));
    const exportsDir = join(getEnv().DATA_DIR, "exports");
    mkdirSync(exportsDir, { recursive: true });
    writeFileSync(join(exportsDir, "old.zip"), "zip");
    writeFileSync(join(exportsDir, "live.zip"), "zip");
    const task = (file: string, expires: Date) =>
      db
        .insert(dsarTasks)
        .values({
          requestId: "dsar_young",
          status: "completed",
          dueAt: NOW,
          exportFile: join("exports", file),
          exportExpiresAt: expires,
          createdAt: NOW,
        })
        .returning({ id: dsarTasks.id })
        .get().id;
    const oldTask = task("old.zip", days(1));
    const liveTask = task("live.zip", later(1));

    const counts = await runRetention(NOW);
    expect(counts.dsarRequestsExpired).toBe(1);
    expect(counts.dsarExportsDeleted).toBe(1);
    const old = db.select().from(dsarRequests).where(eq(dsarRequests.id, "dsar_old")).get()!;
    expect(old).toMatchObject({
      status: "expired",
      emailEnc: null,
      emailHash: null,
      verifyTokenHash: null,
    });
    const young = db.select().from(dsarRequests).where(eq(dsarRequests.id, "dsar_young")).get()!;
    expect(young).toMatchObject({ status: "unverified", emailEnc: "enc" });
    expect(existsSync(join(exportsDir, "old.zip"))).toBe(false);
    expect(existsSync(join(exportsDir, "live.zip"))).toBe(true);
    expect(
      db.select().from(dsarTasks).where(eq(dsarTasks.id, oldTask)).get()!.exportFile,
    ).toBeNull();
    expect(
      db.select().from(dsarTasks).where(eq(dsarTasks.id, liveTask)).get()!.exportFile,
    ).not.toBeNull();
  });
});
