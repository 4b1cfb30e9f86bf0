import { eq } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  agentStates,
  conversations,
  inboxNotifications,
  teamMembers,
  teams,
} from "~/db/schema/tenant-inbox";
import { ForbiddenError, NotFoundError } from "~/lib/errors";
import { makeTeam, type Team } from "../../../tests/support/teams";
import { thrown } from "../../../tests/support/errors";
import { createContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import { systemContext } from "../context";
import { removeMember } from "../workspaces/workspaces.server";
import { setAvailability } from "./agents.server";
import { setConversationStatus } from "./conversations.server";
import { readInboxSettings, settingsToInput, updateInboxSettings } from "./inbox-settings.server";
import { mayFollowConversation } from "./live-access.server";
import { loadInboxMember } from "./members.server";
import {
  assignFromConversation,
  forYou,
  labelConversation,
  noteOnConversation,
  openConversation,
  sidebarChoices,
} from "./sidebar.server";
import { addTeamMember, createTeam } from "./teams.server";
import { createLabel } from "./labels.server";

type Who = "ana" | "ben" | "mia" | "zed";
let team: Team<Who>;
let ctx: WorkspaceContext;
let contactId: number;
let seq = 0;
let sales: number;
let support: number;

const uid = (w: Who) => team.members[w].id;
const member = (w: Who | "owner") =>
  w === "owner"
    ? loadInboxMember(ctx, team.owner.id, "owner")
    : loadInboxMember(ctx, uid(w), w === "mia" ? "marketer" : "agent");

function seed(teamId: number | null, assigneeId: string | null = null): number {
  seq += 1;
  const at = new Date();
  return ctx.db
    .insert(conversations)
    .values({
      contactId,
      channel: "sms",
      accountKey: `acct-${seq}`,
      status: "open",
      teamId,
      assigneeId,
      waitingSince: at,
      lastMessageAt: at,
      lastInboundAt: at,
      createdAt: at,
      updatedAt: at,
    })
    .returning({ id: conversations.id })
    .get().id;
}

const conv = (id: number) =>
  ctx.db.select().from(conversations).where(eq(conversations.id, id)).get()!;

beforeAll(async () => {
  team = await makeTeam({
    owner: "Olga Owner",
    workspace: { slug: "side-co" },
    members: {
      ana: { name: "Ana Agent", role: "agent" },
      ben: { name: "Ben Agent", role: "agent" },
      mia: { name: "Mia Marketer", role: "marketer" },
      zed: { name: "Zed Agent", role: "agent" },
    },
  });
  ctx = team.ctx;
  contactId = createContact(ctx, { name: "Cara Customer", phone: "+919876543210" }).id;
  sales = createTeam(ctx, "Sales").id;
  support = createTeam(ctx, "Support").id;
  addTeamMember(ctx, sales, uid("ana"));
  addTeamMember(ctx, support, uid("ben"));
  addTeamMember(ctx, sales, uid("zed"));
});

beforeEach(() => {
  ctx.db.delete(conversations).run();
  ctx.db.delete(agentStates).run();
  updateInboxSettings(ctx, { ...settingsToInput(readInboxSettings(ctx)), autoAssign: true });
});

describe("the sidebar's actions", () => {
  it("an agent of another team gets a 404, as for a missing conversation, for every action", () => {
    const c = seed(sales);
    const ben = member("ben");
    const label = createLabel(ctx, { name: `VIP ${seq}` });
    expect(thrown(() => openConversation(ctx, ben, c))).toBeInstanceOf(NotFoundError);
    expect(
      thrown(() => assignFromConversation(ctx, ben, c, { assigneeId: uid("ben") })),
    ).toBeInstanceOf(NotFoundError);
    expect(thrown(() => labelConversation(ctx, ben, c, label.id, "add"))).toBeInstanceOf(
      NotFoundError,
    );
    expect(thrown(() => noteOnConversation(ctx, ben, c, "hello"))).toBeInstanceOf(NotFoundError);
    expect(mayFollowConversation({ ...ctx, role: "agent", userId: uid("ben") }, c)).toBe(false);
    expect(mayFollowConversation({ ...ctx, role: "agent", userId: uid("ana") }, c)).toBe(true);
    expect(conv(c).assigneeId).toBeNull();
  });

  it("a marketer reads but cannot assign", () => {
    const c = seed(null);
    expect(openConversation(ctx, member("mia"), c).id).toBe(c);
    expect(
      thrown(() => assignFromConversation(ctx, member("mia"), c, { assigneeId: uid("ana") })),
    ).toBeInstanceOf(ForbiddenError);
  });

  it("offers only the team's members once it has a team, and labels it does not have", () => {
    const c = seed(sales);
    const label = createLabel(ctx, { name: `Hot ${seq}` });
    labelConversation(ctx, member("owner"), c, label.id, "add");
    const choices = sidebarChoices(ctx, openConversation(ctx, member("owner"), c));
    expect(choices.assignees.map((a) => a.name)).toEqual(["Ana Agent", "Zed Agent"]);
    expect(choices.teams.map((t) => t.name)).toEqual(["Sales", "Support"]);
    expect(choices.labels.map((l) => l.id)).not.toContain(label.id);
    labelConversation(ctx, member("owner"), c, label.id, "remove");
    expect(openConversation(ctx, member("owner"), c).labels).toEqual([]);
  });

  it("a mention and an assignment show under For you until the member opens it", () => {
    const c = seed(sales);
    noteOnConversation(ctx, member("owner"), c, "@Ana Agent can you look?");
    assignFromConversation(ctx, member("owner"), c, { assigneeId: uid("zed") });
    expect(forYou(ctx, member("ana")).map((n) => [n.kind, n.contact, n.actor])).toEqual([
      ["mention", "Cara Customer", "Olga Owner"],
    ]);
    expect(forYou(ctx, member("zed")).map((n) => n.kind)).toEqual(["assigned"]);
    openConversation(ctx, member("ana"), c);
    expect(forYou(ctx, member("ana"))).toEqual([]);
    // Moved to another team: it is no longer theirs to see, so it drops out.
    noteOnConversation(ctx, member("owner"), c, "@Ana Agent again");
    assignFromConversation(ctx, member("owner"), c, { assigneeId: null, teamId: support });
    expect(forYou(ctx, member("ana"))).toEqual([]);
  });
});

describe("freeing capacity", () => {
  it("resolving a conversation hands the next queued one to its agent", () => {
    updateInboxSettings(ctx, {
      ...settingsToInput(readInboxSettings(ctx)),
      autoAssign: true,
      agentCapacity: 1,
    });
    setAvailability(ctx, uid("ana"), true);
    const held = seed(null, uid("ana"));
    const waiting = seed(null);
    ctx.db
      .update(conversations)
      .set({ queuedAt: new Date() })
      .where(eq(conversations.id, waiting))
      .run();
    setConversationStatus(ctx, member("ana"), held, "resolved");
    expect(conv(waiting).assigneeId).toBe(uid("ana"));
    updateInboxSettings(ctx, { ...settingsToInput(readInboxSettings(ctx)), agentCapacity: 5 });
  });
});

describe("a member who leaves", () => {
  it("loses teams and availability, and their open conversations go back to the queue", () => {
    setAvailability(ctx, uid("zed"), true);
    setAvailability(ctx, uid("ana"), true);
    const open = seed(sales, uid("zed"));
    const done = seed(sales, uid("zed"));
    ctx.db
      .update(conversations)
      .set({ status: "resolved" })
      .where(eq(conversations.id, done))
      .run();
    noteOnConversation(ctx, member("owner"), open, "@Zed Agent");
    removeMember(systemContext("test"), team.workspace.id, uid("zed"));
    expect(
      ctx.db
        .select()
        .from(teamMembers)
        .where(eq(teamMembers.userId, uid("zed")))
        .all(),
    ).toEqual([]);
    expect(
      ctx.db
        .select()
        .from(agentStates)
        .where(eq(agentStates.userId, uid("zed")))
        .all(),
    ).toEqual([]);
    expect(
      ctx.db
        .select()
        .from(inboxNotifications)
        .where(eq(inboxNotifications.userId, uid("zed")))
        .all(),
    ).toEqual([]);
    // Re-queued and drained to the other online agent of the team.
    expect(conv(open).assigneeId).toBe(uid("ana"));
    expect(conv(done).assigneeId).toBe(uid("zed"));
    expect(
      ctx.db
        .select()
        .from(teams)
        .all()
        .map((t) => t.name),
    ).toEqual(["Sales", "Support"]);
  });
});
