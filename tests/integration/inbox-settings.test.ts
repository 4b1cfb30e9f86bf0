import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceContext } from "~/domain/context";
import { readInboxSettings } from "~/domain/inbox/inbox-settings.server";
import { listLabels } from "~/domain/inbox/labels.server";
import { listTeams } from "~/domain/inbox/teams.server";
import type { Browser, TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/** The inbox settings and the teams and labels pages, through the real server without JavaScript. */

let server: TestServer;
let ctx: WorkspaceContext;
let people: Record<"owner" | "agent" | "marketer", Browser>;
let agentUser: TestUser;
let marketerUser: TestUser;
const slug = "inbox-settings-co";
const inbox = `/w/${slug}/settings/inbox`;
const teamsPage = `/w/${slug}/settings/teams`;

const VALID = {
  reopenWithinDays: "14",
  autoAssign: "on",
  agentCapacity: "5",
  businessHoursEnabled: "on",
  "hours.mon": "09:00-13:00, 14:00-18:00",
  "hours.tue": "09:00-18:00",
  "hours.wed": "",
  "hours.thu": "",
  "hours.fri": "9:30-17:00",
  "hours.sat": "",
  "hours.sun": "",
  outsideHoursReply: "We are closed now and will answer in the morning.",
  csatEnabled: "on",
  csatQuestion: "How did we do? Reply 1 to 5.",
  aiEnabled: "on",
};

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olive Owner",
    workspace: { slug, name: "Inbox Settings Co" },
    members: {
      agent: { name: "Arjun Agent", role: "agent" },
      marketer: { name: "Maya Marketer", role: "marketer" },
    },
  });
  ctx = team.ctx;
  agentUser = team.members.agent;
  marketerUser = team.members.marketer;
  server = await startServer();
  people = await signInAll(server, { owner: team.owner, agent: agentUser, marketer: marketerUser });
});

afterAll(async () => {
  await server?.stop();
});

describe("inbox settings page", () => {
  it("shows the defaults, and saves valid settings", async () => {
    const page = await textOf(await people.owner.get(inbox));
    expect(page).toContain("Inbox settings");
    expect(page).toContain("Asia/Kolkata");
    const res = await people.owner.post(inbox, VALID);
    expect(res.status).toBe(302);
    const saved = readInboxSettings(ctx);
    expect(saved).toMatchObject({
      reopenWithinDays: 14,
      autoAssign: true,
      agentCapacity: 5,
      csatEnabled: true,
      aiEnabled: true,
      aiAutoDraft: false,
    });
    expect(saved.businessHours?.days).toEqual({
      mon: [
        ["09:00", "13:00"],
        ["14:00", "18:00"],
      ],
      tue: [["09:00", "18:00"]],
      fri: [["09:30", "17:00"]],
    });
    expect(await textOf(await people.owner.get(inbox))).toContain("09:00-13:00, 14:00-18:00");
  });

  it.each([
    [{ agentCapacity: "0" }, "from 1 to 100"],
    [{ reopenWithinDays: "91" }, "from 0 to 90"],
    [{ reopenWithinDays: "soon" }, "0 to 90"],
    [{ "hours.tue": "18:00-09:00" }, "ends before it starts"],
    [{ "hours.wed": "9-5" }, "is not a range"],
    [{ "hours.mon": "09:00-12:00, 11:00-13:00" }, "overlap"],
    [{ outsideHoursReply: "" }, "Write the reply"],
  ])("refuses %j with a 400 and changes nothing", async (patch, message) => {
    const before = readInboxSettings(ctx);
    const res = await people.owner.post(inbox, { ...VALID, agentCapacity: "7", ...patch });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain(message);
    expect(readInboxSettings(ctx)).toEqual(before);
  });

  it("is for owners and admins only", async () => {
    for (const who of ["agent", "marketer"] as const) {
      expect((await people[who].get(inbox)).status).toBe(403);
      expect((await people[who].post(inbox, VALID)).status).toBe(403);
      expect((await people[who].get(teamsPage)).status).toBe(403);
      expect((await people[who].post(teamsPage, { intent: "createTeam", name: "X" })).status).toBe(
        403,
      );
    }
    expect(listTeams(ctx).map((t) => t.name)).not.toContain("X");
  });

  it("is linked from the workspace settings page", async () => {
    const page = await textOf(await people.owner.get(`/w/${slug}/settings`));
    expect(page).toContain(`href="${inbox}"`);
    expect(page).toContain(`href="${teamsPage}"`);
  });
});

describe("teams and labels page", () => {
  it("creates a team, adds and removes members, and deletes it after confirming", async () => {
    expect(
      (await people.owner.post(teamsPage, { intent: "createTeam", name: "Support" })).status,
    ).toBe(302);
    const dup = await people.owner.post(teamsPage, { intent: "createTeam", name: "support" });
    expect(dup.status).toBe(400);
    expect(await textOf(dup)).toContain("already a team called");
    const support = listTeams(ctx).find((t) => t.name === "Support")!;
    const teamId = String(support.id);
    const marketer = await people.owner.post(teamsPage, {
      intent: "addMember",
      teamId,
      userId: marketerUser.id,
    });
    expect(marketer.status).toBe(400);
    expect(await textOf(marketer)).toContain("can answer conversations");
    const stranger = await people.owner.post(teamsPage, {
      intent: "addMember",
      teamId,
      userId: "usr_nobody",
    });
    expect(stranger.status).toBe(400);
    expect(
      (await people.owner.post(teamsPage, { intent: "addMember", teamId, userId: agentUser.id }))
        .status,
    ).toBe(302);
    expect(listTeams(ctx)[0]!.members.map((m) => m.name)).toEqual(["Arjun Agent"]);
    const confirm = await textOf(
      await people.owner.get(`${teamsPage}?remove=${teamId}:${agentUser.id}`),
    );
    expect(confirm).toContain("Remove Arjun Agent from “Support”?");
    await people.owner.post(teamsPage, { intent: "removeMember", teamId, userId: agentUser.id });
    expect(listTeams(ctx)[0]!.members).toEqual([]);
    expect(await textOf(await people.owner.get(`${teamsPage}?deleteTeam=${teamId}`))).toContain(
      "Delete the team “Support”?",
    );
    expect((await people.owner.post(teamsPage, { intent: "deleteTeam", teamId })).status).toBe(302);
    expect(listTeams(ctx)).toEqual([]);
    expect((await people.owner.post(teamsPage, { intent: "deleteTeam", teamId })).status).toBe(404);
  });

  it("manages labels and agents' caps, and refuses bad input", async () => {
    expect(
      (await people.owner.post(teamsPage, { intent: "createLabel", name: "Refund", color: "red" }))
        .status,
    ).toBe(302);
    expect(
      (await people.owner.post(teamsPage, { intent: "createLabel", name: "X", color: "purple" }))
        .status,
    ).toBe(400);
    expect(listLabels(ctx).map((l) => [l.name, l.color])).toEqual([["Refund", "red"]]);
    const cap = await people.owner.post(teamsPage, {
      intent: "setCapacity",
      userId: agentUser.id,
      capacity: "500",
    });
    expect(cap.status).toBe(400);
    expect(
      (
        await people.owner.post(teamsPage, {
          intent: "setCapacity",
          userId: agentUser.id,
          capacity: "3",
        })
      ).status,
    ).toBe(302);
    expect(await textOf(await people.owner.get(teamsPage))).toContain('value="3"');
    expect((await people.owner.post(teamsPage, { intent: "explode" })).status).toBe(400);
  });
});
