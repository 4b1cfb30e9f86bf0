import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, test } from "vitest";
import { getControlDb } from "~/db/control.server";
import { memberships, users } from "~/db/schema/control";
import { listFileMailbox, readFileMailboxMessage } from "~/emails/transport.server";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "~/lib/errors";
import { createDsarRequest, requestRow, taskRow } from "../../../tests/support/dsar";
import { createUserByOperator } from "../admin/admin.server";
import { createContact, getContact } from "../contacts/contacts.server";
import type { SystemContext, WorkspaceContext } from "../context";
import { openWorkspaceContext } from "../workspaces/access.server";
import { createWorkspace } from "../workspaces/workspaces.server";
import {
  approveTask,
  declineTask,
  getTask,
  listOverdueWorkspaceTasks,
  listWorkspaceTasks,
  runDsarTasks,
  settleRequest,
  tasksAwaitingDecision,
} from "./dsar-queues.server";

process.env.BASE_URL = "https://engage.test";

const DAY = 86_400_000;
let seq = 0;

async function user(name: string) {
  seq += 1;
  return createUserByOperator(
    { actor: { type: "cli" }, now: () => new Date() },
    {
      name,
      email: `${name.toLowerCase().replace(/\W+/g, ".")}.${seq}.${Date.now()}@example.com`,
      password: "plum orbit saddle 42",
    },
  );
}

async function workspace(now: () => Date = () => new Date()) {
  const owner = await user("Owner");
  const actor = { type: "user" as const, id: owner.id };
  seq += 1;
  const ws = createWorkspace({ actor, now }, owner.id, {
    slug: `dsar-tasks-${seq}-${Date.now().toString(36)}`,
    name: `Shop ${seq}`,
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });
  return { owner, ctx: openWorkspaceContext(ws.id, actor, {}, now) };
}

async function mailsTo(address: string, subject: RegExp) {
  const { items } = await listFileMailbox({ limit: 500, offset: 0 });
  const found = items.filter(
    (m) => m.to.toLowerCase().includes(address) && subject.test(m.subject),
  );
  return Promise.all(found.map(async (m) => (await readFileMailboxMessage(m.id))!));
}

const admin: SystemContext = { actor: { type: "admin", id: "usr_admin" }, now: () => new Date() };

describe("deciding", () => {
  let a: WorkspaceContext;
  let b: WorkspaceContext;
  beforeAll(async () => {
    a = (await workspace()).ctx;
    b = (await workspace()).ctx;
  });

  test("a workspace sees and decides only its own tasks; account tasks only platform admins", async () => {
    const { taskIds } = createDsarRequest({
      type: "access",
      email: "x@example.com",
      tasks: [{ workspaceId: a.workspaceId }, { workspaceId: b.workspaceId }, { userId: "usr_x" }],
    });
    const [inA, inB, account] = taskIds as [number, number, number];
    expect(listWorkspaceTasks(a).rows.map((r) => r.id)).toEqual([inA]);
    expect(() => getTask(a, inB)).toThrow(NotFoundError);
    await expect(declineTask(a, inB, "Not ours")).rejects.toThrow(NotFoundError);
    await expect(approveTask(a, account)).rejects.toThrow(NotFoundError);
    const someone: SystemContext = { actor: { type: "user", id: "usr_y" }, now: () => new Date() };
    await expect(declineTask(someone, account, "No")).rejects.toThrow(ForbiddenError);
    expect(taskRow(inB).status).toBe("pending");
    expect(taskRow(account).status).toBe("pending");
    expect(getTask(admin, account).id).toBe(account);
  });

  test("decline needs a reason; the request is declined when every task is, and the requester told why", async () => {
    const { requestId, taskIds } = createDsarRequest({
      type: "erasure",
      email: "declined.person@example.com",
      tasks: [{ workspaceId: a.workspaceId }, { workspaceId: b.workspaceId }],
    });
    await expect(declineTask(a, taskIds[0]!, "   ")).rejects.toThrow(ValidationError);
    await declineTask(a, taskIds[0]!, "We must keep invoices for 8 years (tax law).");
    expect(requestRow(requestId).status).toBe("open");
    await expect(declineTask(a, taskIds[0]!, "Again")).rejects.toThrow(ConflictError);
    await declineTask(b, taskIds[1]!, "The person is party to an open dispute.");
    const request = requestRow(requestId);
    expect(request.status).toBe("declined");
    expect(request.outcome).toContain("We must keep invoices");
    const [mail] = await mailsTo(
      "declined.person@example.com",
      /^Your privacy request to Pleisys Engage was declined$/,
    );
    expect(mail?.text).toContain("Your request was declined, and it is now closed");
    expect(mail?.text).toContain("open dispute");
    // Settling again changes nothing and sends nothing.
    expect(await settleRequest(admin, requestId)).toEqual({ settled: false });
  });

  test("settles as completed when one task is declined and one fulfilled, with the download link", async () => {
    const contact = createContact(b, { name: "Mixed", email: "mixed@example.com" });
    const { requestId, taskIds } = createDsarRequest({
      type: "export",
      email: "mixed@example.com",
      tasks: [{ workspaceId: a.workspaceId }, { workspaceId: b.workspaceId }],
    });
    await declineTask(a, taskIds[0]!, "We hold nothing about this person.");
    const result = await approveTask(b, taskIds[1]!);
    expect(result).toEqual({ status: "completed", settled: true });
    expect(requestRow(requestId).status).toBe("completed");
    const [mail] = await mailsTo("mixed@example.com", /^Your data from Pleisys Engage is ready/);
    expect(mail?.text).toContain("You asked Pleisys Engage for a copy of your personal data.");
    expect(mail?.text).toMatch(/https:\/\/engage\.test\/dsar\/download\/[\w-]+\.[\w-]+/);
    expect(mail?.text).toContain("We hold nothing about this person.");
    expect(getContact(b, contact.id).name).toBe("Mixed");
  });

  test("a correction applies the fields the admin entered, through the contacts domain", async () => {
    const contact = createContact(a, { name: "Rhea Wrong", email: "rhea@example.com" });
    const { taskIds } = createDsarRequest({
      type: "correction",
      email: "rhea@example.com",
      details: "My name is Rhea Right and my number is 98765 43219",
      tasks: [{ workspaceId: a.workspaceId }],
    });
    expect(getTask(a, taskIds[0]!).details).toContain("Rhea Right");
    await expect(approveTask(a, taskIds[0]!)).rejects.toThrow(ValidationError);
    await expect(approveTask(a, taskIds[0]!, { phone: "12" })).rejects.toThrow(ValidationError);
    expect(taskRow(taskIds[0]!).status).toBe("pending");
    await approveTask(a, taskIds[0]!, { name: "Rhea Right", phone: "98765 43219" });
    expect(getContact(a, contact.id)).toMatchObject({ name: "Rhea Right", phone: "+919876543219" });
    expect(taskRow(taskIds[0]!).status).toBe("completed");
  });

  test("an auto-approved correction waits for the fields; the job leaves it alone", async () => {
    createContact(a, { name: "Auto", email: "auto.fix@example.com" });
    const { taskIds } = createDsarRequest({
      type: "correction",
      email: "auto.fix@example.com",
      tasks: [{ workspaceId: a.workspaceId, status: "approved" }],
    });
    await runDsarTasks({ actor: { type: "system", id: "dsar-tasks" }, now: () => new Date() });
    expect(taskRow(taskIds[0]!).status).toBe("approved");
    expect(getTask(a, taskIds[0]!).needsFields).toBe(true);
    await approveTask(a, taskIds[0]!, { name: "Auto Fixed" });
    expect(taskRow(taskIds[0]!).status).toBe("completed");
  });
});

describe("overdue requests", () => {
  test("escalate to the platform admins once, and show on the admin list", async () => {
    let now = new Date("2031-05-01T08:00:00Z");
    const clock = () => now;
    const { ctx } = await workspace(clock);
    const shopName = `Shop ${seq}`;
    const operator = await user("Olga Operator");
    getControlDb()
      .update(users)
      .set({ isPlatformAdmin: true })
      .where(eq(users.id, operator.id))
      .run();
    const { requestId, taskIds } = createDsarRequest({
      type: "erasure",
      email: "late.answer@example.com",
      receivedAt: now,
      tasks: [{ workspaceId: ctx.workspaceId }],
    });
    const due = requestRow(requestId).dueAt.getTime();
    const job: SystemContext = { actor: { type: "system", id: "dsar-tasks" }, now: clock };
    const escalations = async () =>
      (await mailsTo(operator.email.toLowerCase(), /Overdue privacy request/)).length;

    // Requests of other tests, long overdue by then, are escalated by this first run.
    now = new Date(due - 60_000);
    await runDsarTasks(job);
    const before = await escalations();
    expect(requestRow(requestId).escalatedAt).toBeNull();

    now = new Date(due + 60_000);
    expect((await runDsarTasks(job)).escalated).toBe(1);
    expect(await escalations()).toBe(before + 1);
    const mails = await mailsTo(operator.email.toLowerCase(), /Overdue privacy request/);
    const mail = mails.find(
      (m) => m.text?.includes(`${shopName}\n`) || m.text?.includes(`${shopName},`),
    );
    expect(mail!.text).toContain("https://engage.test/admin/privacy");
    expect(mail!.text).not.toContain("late.answer");
    expect(requestRow(requestId).escalatedAt?.getTime()).toBe(now.getTime());

    // The next run sends nothing more about it.
    now = new Date(due + 5 * 60_000);
    expect((await runDsarTasks(job)).escalated).toBe(0);
    expect(await escalations()).toBe(before + 1);

    const listed = listOverdueWorkspaceTasks({ ...job, now: clock }).find(
      (t) => t.id === taskIds[0],
    );
    expect(listed).toMatchObject({ overdue: true, workspaceId: ctx.workspaceId });
    expect(listed!.escalatedAt).not.toBeNull();
  });
});

describe("reminders", () => {
  test("go to owners and admins 7 and 2 days before the due date, each exactly once", async () => {
    let now = new Date("2026-03-01T08:00:00Z");
    const clock = () => now;
    const { owner, ctx } = await workspace(clock);
    const adminUser = await user("Adele Admin");
    const marketer = await user("Mark Marketer");
    getControlDb()
      .insert(memberships)
      .values([
        { workspaceId: ctx.workspaceId, userId: adminUser.id, role: "admin" },
        { workspaceId: ctx.workspaceId, userId: marketer.id, role: "marketer" },
      ])
      .run();
    const { taskIds } = createDsarRequest({
      type: "erasure",
      email: "remind.me@example.com",
      receivedAt: now,
      tasks: [{ workspaceId: ctx.workspaceId }],
    });
    const due = taskRow(taskIds[0]!).dueAt.getTime();
    const job: SystemContext = { actor: { type: "system", id: "dsar-tasks" }, now: clock };
    const reminders = async () => (await mailsTo(owner.email.toLowerCase(), /is due in/)).length;

    now = new Date(due - 8 * DAY);
    expect((await runDsarTasks(job)).reminders).toBe(0);
    now = new Date(due - 7 * DAY + 60_000);
    expect((await runDsarTasks(job)).reminders).toBe(2); // owner and admin, not the marketer
    expect(await reminders()).toBe(1);
    expect(await mailsTo(marketer.email.toLowerCase(), /is due in/)).toHaveLength(0);
    expect(await mailsTo(adminUser.email.toLowerCase(), /due in 7 days/)).toHaveLength(1);
    now = new Date(due - 5 * DAY);
    expect((await runDsarTasks(job)).reminders).toBe(0);
    now = new Date(due - 2 * DAY + 60_000);
    expect((await runDsarTasks(job)).reminders).toBe(2);
    now = new Date(due - DAY);
    expect((await runDsarTasks(job)).reminders).toBe(0);
    expect(await reminders()).toBe(2);
    expect(await mailsTo(owner.email.toLowerCase(), /due in 2 days/)).toHaveLength(1);
    // Overdue shows in the queue.
    now = new Date(due + DAY);
    const [row] = listWorkspaceTasks(ctx).rows;
    expect(row).toMatchObject({ overdue: true, daysLeft: -1 });
    expect(taskRow(taskIds[0]!).remindedAt2).not.toBeNull();
    expect(
      getControlDb()
        .select()
        .from(memberships)
        .where(eq(memberships.workspaceId, ctx.workspaceId))
        .all(),
    ).toHaveLength(3);
  });
});

describe("a new request", () => {
  test("is announced to owners and admins once, and counted on the menu badge until decided", async () => {
    const now = new Date();
    const clock = () => now;
    const { owner, ctx } = await workspace(clock);
    const shopName = `Shop ${seq}`;
    const other = await workspace(clock);
    const adminUser = await user("Ada Admin");
    const marketer = await user("Milo Marketer");
    getControlDb()
      .insert(memberships)
      .values([
        { workspaceId: ctx.workspaceId, userId: adminUser.id, role: "admin" },
        { workspaceId: ctx.workspaceId, userId: marketer.id, role: "marketer" },
      ])
      .run();
    expect(tasksAwaitingDecision(ctx)).toBe(0);
    const { taskIds } = createDsarRequest({
      type: "export",
      email: "arrival@example.com",
      receivedAt: now,
      tasks: [{ workspaceId: ctx.workspaceId }],
    });
    // Another workspace's request never counts here, nor ours there.
    createDsarRequest({
      type: "erasure",
      email: "elsewhere@example.com",
      receivedAt: now,
      tasks: [{ workspaceId: other.ctx.workspaceId }],
    });
    expect(tasksAwaitingDecision(ctx)).toBe(1);
    expect(tasksAwaitingDecision(other.ctx)).toBe(1);

    const job: SystemContext = { actor: { type: "system", id: "dsar-tasks" }, now: clock };
    const subject = new RegExp(`^New privacy request in ${shopName}: answer by`);
    await runDsarTasks(job);
    const [mail] = await mailsTo(owner.email.toLowerCase(), subject);
    expect(mail?.text).toContain(`asked “${shopName}” for: Export of their data`);
    expect(mail?.text).toContain(`https://engage.test/w/`);
    expect(mail?.text).toContain(`/privacy/requests/${taskIds[0]}`);
    expect(mail?.text).not.toContain("arrival@example.com");
    expect(await mailsTo(adminUser.email.toLowerCase(), subject)).toHaveLength(1);
    expect(await mailsTo(marketer.email.toLowerCase(), /privacy request/i)).toHaveLength(0);
    expect(taskRow(taskIds[0]!).notifiedAt?.getTime()).toBe(now.getTime());

    // The job runs every few minutes: nothing is sent twice.
    await runDsarTasks(job);
    await runDsarTasks(job);
    expect(await mailsTo(owner.email.toLowerCase(), subject)).toHaveLength(1);
    expect(await mailsTo(adminUser.email.toLowerCase(), subject)).toHaveLength(1);

    await declineTask(ctx, taskIds[0]!, "We hold no export for this person.");
    expect(tasksAwaitingDecision(ctx)).toBe(0);
  });
});
