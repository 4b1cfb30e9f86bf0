import { eq } from "drizzle-orm";
import { strFromU8, unzipSync } from "fflate";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, test } from "vitest";
import { getControlDb } from "~/db/control.server";
import {
  aiDrafts,
  conversationActivity,
  conversations,
  csatResponses,
} from "~/db/schema/tenant-inbox";
import { auditLog, memberships, users } from "~/db/schema/control";
import {
  contactEvents,
  contacts,
  inboundMessages,
  messageContents,
  messages,
  suppressions,
} from "~/db/schema/tenant";
import { createDsarRequest, requestRow, taskRow } from "../../../tests/support/dsar";
import { createUserByOperator } from "../admin/admin.server";
import { createSession } from "../accounts/sessions.server";
import { createContact } from "../contacts/contacts.server";
import { setConsent } from "../contacts/consent.server";
import { createImport, getImportPreview } from "../contacts/import/uploads.server";
import { setMapping } from "../contacts/import/mapping.server";
import { startImport, waitForImport } from "../contacts/import/supervisor.server";
import { isSuppressed } from "../contacts/suppressions.server";
import { suppressionKey } from "../contacts/suppression-hash.server";
import type { SystemContext, WorkspaceContext } from "../context";
import { queueMessages } from "../delivery/outbox.server";
import { downloadToken, openDsarDownload } from "./dsar-fulfil.server";
import { approveTask } from "./dsar-queues.server";
import { indexSubjects, subjectHashes, workspacesHolding } from "./subject-index.server";
import { makeWorkspace } from "../../../tests/support/workspaces";

process.env.BASE_URL = "https://engage.test";

let seq = 0;

function workspace(): Promise<WorkspaceContext> {
  seq += 1;
  return makeWorkspace(`dsar-fulfil-${seq}-${Date.now().toString(36)}`, {
    name: `Shop ${seq}`,
    request: { ip: "203.0.113.9" },
  });
}

/**
 * A contact with a consent, an outbound email, an SMS, an inbound reply, events, and an inbox
 * conversation with a note, a satisfaction rating and an AI draft.
 */
function person(ctx: WorkspaceContext, name: string, email: string, phone: string) {
  const contact = createContact(ctx, { name, email, phone, attributes: {} });
  setConsent(ctx, contact.id, "email", "granted", `form for ${name}`);
  queueMessages(ctx, [
    {
      contactId: contact.id,
      channel: "email",
      kind: "service",
      content: {
        channel: "email",
        subject: `Order for ${name}`,
        html: `<p>Hello ${name}</p>`,
        text: `Hello ${name}`,
      },
    },
    {
      contactId: contact.id,
      channel: "sms",
      kind: "service",
      content: { channel: "sms", text: `SMS to ${name}` },
    },
  ]);
  ctx.db
    .insert(inboundMessages)
    .values({
      contactId: contact.id,
      channel: "sms",
      sender: contact.phone!,
      text: `Reply from ${name}`,
      providerMessageId: `in-${contact.id}-${seq}`,
      at: new Date(),
    })
    .run();
  const at = new Date();
  const conversationId = ctx.db
    .insert(conversations)
    .values({
      contactId: contact.id,
      channel: "whatsapp",
      accountKey: "",
      status: "resolved",
      lastMessageAt: at,
      createdAt: at,
      updatedAt: at,
      resolvedAt: at,
    })
    .returning({ id: conversations.id })
    .get().id;
  ctx.db
    .insert(conversationActivity)
    .values({ conversationId, at, actorId: "usr_member", kind: "note", body: `Note on ${name}` })
    .run();
  ctx.db
    .insert(csatResponses)
    .values({ conversationId, askedAt: at, score: 4, answeredAt: at })
    .run();
  ctx.db
    .insert(aiDrafts)
    .values({ conversationId, status: "discarded", body: `Draft for ${name}`, createdAt: at })
    .run();
  indexSubjects(ctx.workspaceId, subjectHashes({ email: contact.email, phone: contact.phone }));
  return contact;
}

function unzip(path: string): Record<string, string> {
  const files = unzipSync(new Uint8Array(readFileSync(path)));
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, strFromU8(data)]));
}

function adminCtx(): SystemContext {
  return { actor: { type: "admin", id: "usr_admin" }, now: () => new Date() };
}

describe("export", () => {
  let ctx: WorkspaceContext;
  beforeAll(async () => {
    ctx = await workspace();
  });

  test("the zip holds the subject's record, messages, conversations and events, and nothing of anyone else", async () => {
    const subject = person(ctx, "Asha Subject", "asha@example.com", "+919876500001");
    person(ctx, "Bela Other", "bela@example.com", "+919876500002");
    const { requestId, taskIds } = createDsarRequest({
      type: "export",
      email: "Asha@Example.com",
      tasks: [{ workspaceId: ctx.workspaceId }],
    });
    const result = await approveTask(ctx, taskIds[0]!);
    expect(result).toEqual({ status: "completed", settled: true });

    const task = taskRow(taskIds[0]!);
    expect(task.status).toBe("completed");
    expect(task.exportFile).toMatch(/^exports\/dsar\/\d+-[\w-]+\.zip$/);
    const week = task.exportExpiresAt!.getTime() - task.completedAt!.getTime();
    // 7 days from when it was written (completion is recorded a moment later).
    expect(week).toBeLessThanOrEqual(7 * 86_400_000);
    expect(week).toBeGreaterThan(7 * 86_400_000 - 60_000);
    const files = unzip(join(process.env.DATA_DIR!, task.exportFile!));
    expect(Object.keys(files).sort()).toEqual([
      "README.txt",
      "ai_reply_drafts.csv",
      "attributes.csv",
      "consents.csv",
      "contacts.csv",
      "conversations.csv",
      "data.json",
      "events.csv",
      "inbox_notes.csv",
      "inbox_threads.csv",
      "lists_and_tags.csv",
      "messages.csv",
      "satisfaction_ratings.csv",
      "suppressions.csv",
    ]);
    const data = JSON.parse(files["data.json"]!) as Record<string, Record<string, unknown>[]>;
    expect(data.contacts!.map((c) => c.id)).toEqual([subject.id]);
    expect(data.messages!.map((m) => m.channel).sort()).toEqual(["email", "sms"]);
    expect(data.messages!.find((m) => m.channel === "sms")!.content).toEqual({
      channel: "sms",
      text: "SMS to Asha Subject",
    });
    expect(data.conversations!.map((m) => m.text)).toEqual(["Reply from Asha Subject"]);
    expect(data.consents!.map((c) => c.source)).toEqual(["form for Asha Subject"]);
    expect(data.inbox_threads!.map((t) => t.channel)).toContain("whatsapp");
    expect(data.inbox_notes!.map((n) => n.note)).toEqual(["Note on Asha Subject"]);
    expect(JSON.stringify(data.inbox_notes)).not.toContain("usr_member");
    expect(data.satisfaction_ratings!.map((r) => r.score)).toEqual([4]);
    expect(data.ai_reply_drafts!.map((d) => d.text)).toEqual(["Draft for Asha Subject"]);
    expect(data.events!.length).toBeGreaterThan(0);
    expect(files["messages.csv"]).toContain("Order for Asha Subject");
    // Nothing about the other person, in any file.
    for (const [name, text] of Object.entries(files)) {
      expect(text, name).not.toMatch(/Bela|bela@example\.com|919876500002/);
    }

    // Counts only in the audit log, never the content.
    const completed = getControlDb()
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "dsar.task_completed"))
      .all()
      .at(-1)!;
    expect(completed.details).not.toMatch(/asha/i);
    expect(JSON.parse(completed.details!).counts.rows).toBeGreaterThan(0);

    // The requester is told, with the link; the link downloads and is audited.
    expect(requestRow(requestId).status).toBe("completed");
    const download = openDsarDownload(
      { actor: { type: "system", id: "dsar-download" }, now: () => new Date() },
      downloadToken(task),
    );
    expect(download.bytes).toBeGreaterThan(100);
  });

  test("an account export has the profile, memberships, sessions and audit events about the user", async () => {
    const member = getControlDb()
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(eq(memberships.workspaceId, ctx.workspaceId))
      .get()!;
    createSession(
      {
        actor: { type: "user", id: member.userId },
        now: () => new Date(),
        request: { ip: "203.0.113.50", userAgent: "Firefox/140" },
      },
      member.userId,
    );
    const { taskIds } = createDsarRequest({
      type: "access",
      email: "owner@example.com",
      tasks: [{ userId: member.userId }],
    });
    await approveTask(adminCtx(), taskIds[0]!);
    const task = taskRow(taskIds[0]!);
    const files = unzip(join(process.env.DATA_DIR!, task.exportFile!));
    const data = JSON.parse(files["data.json"]!) as Record<string, Record<string, unknown>[]>;
    expect(data.profile![0]!.id).toBe(member.userId);
    expect(data.memberships!.map((m) => m.role)).toEqual(["owner"]);
    expect(data.sessions!.map((s) => [s.ip, s.user_agent])).toContainEqual([
      "203.0.113.50",
      "Firefox/140",
    ]);
    expect(data.audit_events!.some((a) => a.action === "workspace.created")).toBe(true);
    expect(files["sessions.csv"]).toContain("Firefox/140");
  });
});

describe("erasure", () => {
  test("deletes the person, their conversations and message content; a re-import keeps them suppressed", async () => {
    const ctx = await workspace();
    const subject = person(ctx, "Esha Erased", "esha@example.com", "+919876500011");
    const other = person(ctx, "Kiran Kept", "kiran@example.com", "+919876500012");
    // She asked for her data first: that export goes with the erasure.
    const earlier = createDsarRequest({
      type: "export",
      phone: "+919876500011",
      tasks: [{ workspaceId: ctx.workspaceId }],
    }).taskIds[0]!;
    await approveTask(ctx, earlier);
    const earlierFile = join(process.env.DATA_DIR!, taskRow(earlier).exportFile!);
    expect(existsSync(earlierFile)).toBe(true);
    const { requestId, taskIds } = createDsarRequest({
      type: "erasure",
      email: "esha@example.com",
      phone: "+919876500011",
      tasks: [{ workspaceId: ctx.workspaceId }],
    });
    expect(workspacesHolding(subjectHashes({ email: "esha@example.com" }))).toContain(
      ctx.workspaceId,
    );
    await approveTask(ctx, taskIds[0]!);

    const task = taskRow(taskIds[0]!);
    expect(task.status).toBe("completed");
    expect(JSON.parse(task.counts!)).toMatchObject({
      exports: 1,
      contacts: 1,
      messages: 2,
      conversations: 0,
    });
    expect(ctx.db.select().from(contacts).where(eq(contacts.id, subject.id)).get()).toBeUndefined();
    expect(
      ctx.db.select().from(contactEvents).where(eq(contactEvents.contactId, subject.id)).all(),
    ).toEqual([]);
    const left = ctx.db.select().from(messages).all();
    expect(left).toHaveLength(4); // the counts stay for billing and reports …
    const erased = left.filter((m) => m.contactId === null);
    expect(erased).toHaveLength(2);
    for (const m of erased) {
      // … but nothing personal: no address, no content, queued ones never go.
      expect(m.recipient).toBe("");
      expect(
        ctx.db.select().from(messageContents).where(eq(messageContents.messageId, m.id)).get(),
      ).toBeUndefined();
      expect(m.status).toBe("skipped");
    }
    expect(JSON.stringify(ctx.db.select().from(inboundMessages).all())).not.toContain("Esha");
    for (const table of [conversationActivity, csatResponses, aiDrafts]) {
      expect(JSON.stringify(ctx.db.select().from(table).all())).not.toContain("Esha");
    }
    expect(
      ctx.db
        .select()
        .from(conversations)
        .all()
        .map((c) => c.contactId),
    ).not.toContain(subject.id);
    expect(ctx.db.select().from(contacts).where(eq(contacts.id, other.id)).get()).toBeDefined();
    const key = suppressionKey(ctx.db);
    const rows = ctx.db.select().from(suppressions).all();
    expect(
      rows
        .filter((r) => r.reason === "erasure")
        .map((r) => [r.kind, r.channel])
        .sort(),
    ).toEqual([
      ["email", "all"],
      ["phone", "all"],
    ]);
    expect(isSuppressed(ctx.db, key, { email: "esha@example.com" }, "sms")).toBe(true);
    expect(workspacesHolding(subjectHashes({ email: "esha@example.com" }))).not.toContain(
      ctx.workspaceId,
    );
    expect(workspacesHolding(subjectHashes({ phone: "+919876500011" }))).not.toContain(
      ctx.workspaceId,
    );
    expect(requestRow(requestId).status).toBe("completed");
    expect(existsSync(earlierFile)).toBe(false);
    expect(taskRow(earlier).exportFile).toBeNull();

    // The same person comes back in an import: they are not re-added.
    const { import: created } = await createImport(ctx, {
      fileName: "again.csv",
      data: Readable.from([
        Buffer.from(
          "Name,Email,Phone\nEsha Again,ESHA@example.com,\nNew Person,new@example.com,\n",
        ),
      ]),
    });
    const mapping = (await getImportPreview(ctx, created.id)).mapping;
    setMapping(ctx, created.id, { onExisting: "update", mapping });
    startImport(ctx, created.id);
    const summary = await waitForImport(ctx.workspaceId, created.id);
    expect(summary.counts).toMatchObject({ imported: 1, suppressed: 1 });
    expect(
      ctx.db.select().from(contacts).where(eq(contacts.email, "esha@example.com")).get(),
    ).toBeUndefined();
  });

  test("an account erasure deletes the user, sessions and memberships but keeps audit rows", async () => {
    const cli = { actor: { type: "cli" as const }, now: () => new Date() };
    const user = await createUserByOperator(cli, {
      name: "Leaving Person",
      email: `leaving-${Date.now()}@example.com`,
      password: "plum orbit saddle 42",
    });
    const ctx = await workspace();
    getControlDb()
      .insert(memberships)
      .values({ workspaceId: ctx.workspaceId, userId: user.id, role: "marketer" })
      .run();
    const before = getControlDb()
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, user.id))
      .all();
    expect(before.length).toBeGreaterThan(0);
    const { taskIds } = createDsarRequest({
      type: "erasure",
      email: user.email,
      tasks: [{ userId: user.id }],
    });
    await expect(approveTask(ctx, taskIds[0]!)).rejects.toThrow(/not found/i);
    await approveTask(adminCtx(), taskIds[0]!);
    expect(getControlDb().select().from(users).where(eq(users.id, user.id)).get()).toBeUndefined();
    expect(
      getControlDb().select().from(memberships).where(eq(memberships.userId, user.id)).all(),
    ).toEqual([]);
    const after = getControlDb()
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, user.id))
      .all();
    expect(after.length).toBeGreaterThan(before.length);
  });
});

describe("opt-out", () => {
  test("suppresses every channel in the workspace and withdraws consent", async () => {
    const ctx = await workspace();
    const subject = person(ctx, "Omar Optout", "omar@example.com", "+919876500021");
    const { taskIds } = createDsarRequest({
      type: "opt_out",
      phone: "+919876500021",
      tasks: [{ workspaceId: ctx.workspaceId, status: "approved" }],
    });
    const { runDsarTasks } = await import("./dsar-queues.server");
    const counts = await runDsarTasks({
      actor: { type: "system", id: "dsar-tasks" },
      now: () => new Date(),
    });
    expect(counts).toMatchObject({ fulfilled: 1, failed: 0 });
    expect(taskRow(taskIds[0]!).status).toBe("completed");
    const key = suppressionKey(ctx.db);
    for (const channel of ["email", "sms", "whatsapp", "telegram"] as const) {
      expect(isSuppressed(ctx.db, key, subject, channel)).toBe(true);
    }
    expect(ctx.db.select().from(contacts).where(eq(contacts.id, subject.id)).get()).toBeDefined();
  });
});
