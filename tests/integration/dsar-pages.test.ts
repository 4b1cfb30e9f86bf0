import { and, eq } from "drizzle-orm";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, dsarTasks, workspaces } from "~/db/schema/control";
import { createContact } from "~/domain/contacts/contacts.server";
import { downloadToken } from "~/domain/privacy/dsar-fulfil.server";
import { listFileMailbox } from "~/emails/transport.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import { createPlatformAdmin, enrolTotp, signInWithTotp } from "../support/admin";
import { createDsarRequest, taskRow } from "../support/dsar";
import { runCli, type TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The privacy queues and the export download through the real server, as a browser without
 * JavaScript uses them. Requests and tasks are seeded as the portal leaves them (status open,
 * identifiers encrypted) in this process, which shares DATA_DIR with the server.
 */

const DAY = 86_400_000;
let server: TestServer;
let owner: TestUser;
let workspaceA: Workspace;
let workspaceB: Workspace;
let alice: Browser;
let viewer: Browser;
let marketer: Browser;
let ownerB: Browser;
let taskA: number;
let overdueA: number;
let taskB: number;
let accountTask: number;
const slugA = "dsar-pages-a";
const slugB = "dsar-pages-b";
const baseA = `/w/${slugA}/privacy/requests`;

function downloads(taskId: number) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(
      and(eq(auditLog.action, "dsar.export_downloaded"), eq(auditLog.targetId, String(taskId))),
    )
    .all();
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug: slugA, name: "Shop A" },
    members: {
      viewer: { name: "Victor Viewer", role: "viewer" },
      marketer: { name: "Maya Marketer", role: "marketer" },
    },
  });
  const { ctx } = team;
  ({ owner, workspace: workspaceA } = team);
  const teamB = await makeTeam({ owner: "Bruno B", workspace: { slug: slugB, name: "Shop B" } });
  workspaceB = teamB.workspace;
  createContact(ctx, { name: "Priya Person", email: "priya@example.com" });
  createContact(ctx, { name: "Someone Else", email: "else@example.com" });
  taskA = createDsarRequest({
    type: "export",
    email: "priya@example.com",
    tasks: [{ workspaceId: workspaceA.id }],
  }).taskIds[0]!;
  overdueA = createDsarRequest({
    type: "erasure",
    email: "late@example.com",
    receivedAt: new Date(Date.now() - 33 * DAY),
    tasks: [{ workspaceId: workspaceA.id }],
  }).taskIds[0]!;
  taskB = createDsarRequest({
    type: "access",
    email: "bob@example.com",
    tasks: [{ workspaceId: workspaceB.id }],
  }).taskIds[0]!;
  accountTask = createDsarRequest({
    type: "access",
    email: owner.email,
    tasks: [{ userId: owner.id }],
  }).taskIds[0]!;
  server = await startServer();
  ({ alice, viewer, marketer, ownerB } = await signInAll(server, {
    alice: owner,
    ...team.members,
    ownerB: teamB.owner,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("the workspace queue", () => {
  it("lists the workspace's open requests with due dates, countdowns and overdue rows standing out", async () => {
    const res = await alice.get(baseA);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain("Privacy requests");
    expect(html).toContain(`href="${baseA}/${taskA}"`);
    expect(html).toContain(`href="${baseA}/${overdueA}"`);
    expect(html).not.toContain(`/${taskB}"`);
    expect(html).toMatch(/30 days left|29 days left/);
    expect(html).toMatch(/row-attention[^]*3 days overdue/);
    expect(html).toContain("1 request is overdue");
    // The nav entry is there for owners and admins.
    expect(html).toContain(`href="/w/${slugA}/privacy/requests"`);
  });

  it("counts the requests waiting for a decision on the menu, per workspace, for those who decide", async () => {
    const badge = (n: number) =>
      `<span class="nav-label">Privacy requests</span> <span class="nav-badge">${n}<span class="visually-hidden"> waiting for a decision</span></span>`;
    // Shop A: its two pending requests; not Shop B's, not the account request.
    const home = await textOf(await alice.get(`/w/${slugA}`));
    expect(home).toContain(badge(2));
    // Shop B's owner sees Shop B's one request, never Shop A's, and cannot open Shop A.
    const homeB = await textOf(await ownerB.get(`/w/${slugB}`));
    expect(homeB).toContain(badge(1));
    expect(homeB).not.toContain(badge(2));
    expect((await ownerB.get(`/w/${slugA}`)).status).toBe(404);
    // Members who cannot decide see neither the item nor a count.
    for (const member of [viewer, marketer]) {
      const page = await textOf(await member.get(`/w/${slugA}`));
      expect(page).not.toContain("waiting for a decision");
      expect(page).not.toContain(`href="/w/${slugA}/privacy/requests"`);
    }
  });

  it("is 404 for another workspace's task id and for garbage ids", async () => {
    expect((await alice.get(`${baseA}/${taskB}`)).status).toBe(404);
    expect((await alice.get(`${baseA}/${accountTask}`)).status).toBe(404);
    expect((await alice.get(`${baseA}/x`)).status).toBe(404);
    const decline = { intent: "decline", reason: "Not ours", confirm: "on" };
    expect((await alice.post(`${baseA}/${taskB}`, decline)).status).toBe(404);
    expect(taskRow(taskB).status).toBe("pending");
    // Workspace B's owner sees their own task and not A's.
    expect((await ownerB.get(`/w/${slugB}/privacy/requests/${taskB}`)).status).toBe(200);
    expect((await ownerB.get(`/w/${slugB}/privacy/requests/${taskA}`)).status).toBe(404);
  });

  it("viewers and marketers can neither see nor decide requests", async () => {
    for (const browser of [viewer, marketer]) {
      expect((await browser.get(baseA)).status).toBe(403);
      expect((await browser.get(`${baseA}/${taskA}`)).status).toBe(403);
      const res = await browser.post(`${baseA}/${taskA}`, {
        intent: "decline",
        reason: "No",
        confirm: "on",
      });
      expect(res.status).toBe(403);
    }
    expect(taskRow(taskA).status).toBe("pending");
    const nav = await textOf(await viewer.get(`/w/${slugA}`));
    expect(nav).not.toContain("Privacy requests");
  });

  it("refuses a decision without its confirmation or reason, and offers no extension", async () => {
    const page = `${baseA}/${overdueA}`;
    const noConfirm = await alice.post(page, { intent: "decline", reason: "Because" });
    expect(noConfirm.status).toBe(400);
    const noReason = await alice.post(page, { intent: "decline", reason: " ", confirm: "on" });
    expect(noReason.status).toBe(400);
    expect(await textOf(noReason)).toContain("Give the reason for declining");
    // The policy promises 30 days: there is no way to push a request past them.
    expect(await textOf(await alice.get(page))).not.toMatch(/Extend|extension/i);
    const extend = await alice.post(page, {
      intent: "extend",
      until: "2099-01-01",
      reason: "Busy",
      confirm: "on",
    });
    expect(extend.status).toBe(400);
    expect(taskRow(overdueA)).toMatchObject({ status: "pending" });
    expect(taskRow(overdueA).dueAt.getTime()).toBeLessThan(Date.now());
  });

  it("approves an export, shows the download link and the history", async () => {
    const page = `${baseA}/${taskA}`;
    const res = await alice.post(page, { intent: "approve", confirm: "on" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(page);
    expect(taskRow(taskA).status).toBe("completed");
    const html = await textOf(await alice.get(page));
    expect(html).toMatch(/href="[^"]*\/dsar\/download\/[\w-]+\.[\w-]+"/);
    expect(html).toContain("Fulfilled");
    expect(html).toContain("Olivia Owner");
  });

  it("turns automatic approval on and off", async () => {
    const on = await alice.post(baseA, { autoApprove: "on" });
    expect(on.status).toBe(302);
    const read = () =>
      getControlDb()
        .select({ on: workspaces.dsarAutoApprove })
        .from(workspaces)
        .where(eq(workspaces.id, workspaceA.id))
        .get()?.on;
    expect(read()).toBe(true);
    expect((await alice.post(baseA, {})).status).toBe(302);
    expect(read()).toBe(false);
    expect((await marketer.post(baseA, { autoApprove: "on" })).status).toBe(403);
    expect(read()).toBe(false);
  });
});

describe("the download link", () => {
  it("streams the zip without a sign-in and audits every download", async () => {
    const task = taskRow(taskA);
    const url = `/dsar/download/${downloadToken(task)}`;
    const before = downloads(taskA).length;
    const res = await server.fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const data = strFromU8(files["data.json"]!);
    expect(data).toContain("priya@example.com");
    expect(data).not.toContain("else@example.com");
    expect((await server.fetch(url)).status).toBe(200);
    expect(downloads(taskA).length).toBe(before + 2);
  });

  it("is 404 when tampered with and 410 once expired", async () => {
    const task = taskRow(taskA);
    const token = downloadToken(task);
    const [payload, mac] = token.split(".") as [string, string];
    const forged = Buffer.from(`${taskB}:${task.exportFile}`).toString("base64url");
    for (const bad of [`${payload}.${mac.slice(0, -2)}AA`, `${forged}.${mac}`, "nonsense", "x.y"]) {
      expect((await server.fetch(`/dsar/download/${bad}`)).status, bad).toBe(404);
    }
    getControlDb()
      .update(dsarTasks)
      .set({ exportExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(dsarTasks.id, taskA))
      .run();
    const expired = await server.fetch(`/dsar/download/${token}`);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain("expired");
  });
});

describe("the admin queue", () => {
  it("escalates an overdue request to the platform admins once, through the dsar-tasks job", async () => {
    const admin = await createPlatformAdmin({ name: "Esme Escalation" });
    await enrolTotp(admin);
    const browser = await signInWithTotp(server, admin);
    const escalations = async () =>
      (await listFileMailbox({ limit: 1000, offset: 0 })).items.filter(
        (m) =>
          m.to.toLowerCase() === admin.email.toLowerCase() &&
          /Overdue privacy request/.test(m.subject),
      ).length;
    const before = await textOf(await browser.get("/admin/privacy"));
    expect(before).toContain("Escalated: overdue in workspaces");
    expect(before).toContain("Admins are mailed on the next run of the dsar-tasks job");
    expect(await escalations()).toBe(0);

    const env = { DATA_DIR: process.env.DATA_DIR! };
    const first = await runCli(["jobs", "run", "dsar-tasks"], env);
    expect(first.code).toBe(0);
    expect(first.json[0]).toMatchObject({ job: "dsar-tasks", counts: { escalated: 1 } });
    expect(await escalations()).toBe(1);
    const second = await runCli(["jobs", "run", "dsar-tasks"], env);
    expect(second.json[0]).toMatchObject({ job: "dsar-tasks", counts: { escalated: 0 } });
    expect(await escalations()).toBe(1);

    const after = await textOf(await browser.get("/admin/privacy"));
    expect(after).toContain("Shop A");
    expect(after).toContain("Escalated");
    expect(after).toMatch(/Admins mailed \d/);
  }, 60_000);

  it("lists account requests and overdue workspace requests for platform admins only", async () => {
    const admin = await createPlatformAdmin({ name: "Ada Admin" });
    await enrolTotp(admin);
    const browser = await signInWithTotp(server, admin);
    const html = await textOf(await browser.get("/admin/privacy"));
    expect(html).toContain(`href="/admin/privacy/${accountTask}"`);
    expect(html).toContain("Shop A");
    expect(html).toMatch(/days overdue/);
    const detail = await browser.get(`/admin/privacy/${accountTask}`);
    expect(detail.status).toBe(200);
    expect((await browser.get(`/admin/privacy/${taskA}`)).status).toBe(404);
    expect((await alice.get("/admin/privacy")).status).toBe(404);
    expect((await alice.get(`/admin/privacy/${accountTask}`)).status).toBe(404);

    const declined = await browser.post(`/admin/privacy/${accountTask}`, {
      intent: "decline",
      reason: "We could not match this account.",
      confirm: "on",
    });
    expect(declined.status).toBe(302);
    expect(taskRow(accountTask)).toMatchObject({
      status: "declined",
      decidedBy: admin.id,
      declineReason: "We could not match this account.",
    });
  });
});
