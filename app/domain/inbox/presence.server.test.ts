import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceContext } from "~/domain/context";
import { NotFoundError } from "~/lib/errors";
import { seedConversation, seedInboxTeam } from "../../../tests/support/inbox-seed";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { subscribeInboxEvents, type InboxEvent } from "./live.server";
import {
  conversationPresence,
  PRESENCE_TTL_MS,
  presenceOf,
  recordPresence,
  resetPresence,
  setPresence,
} from "./presence.server";
import { softLock, type PresenceEntry } from "~/components/inbox/soft-lock";

const asha = { id: "u_asha", name: "Asha" };
const ravi = { id: "u_ravi", name: "Ravi" };

function listen(workspaceId: string): { events: InboxEvent[]; stop: () => void } {
  const events: InboxEvent[] = [];
  const stop = subscribeInboxEvents(workspaceId, (e) => events.push(e));
  return { events, stop };
}

afterEach(() => resetPresence());

describe("presence", () => {
  it("lists who is present, tells others of arrivals and changes, not of refreshes", () => {
    const { events, stop } = listen("ws_p1");
    setPresence("ws_p1", 7, asha, "viewing", 1_000);
    setPresence("ws_p1", 7, ravi, "viewing", 2_000);
    setPresence("ws_p1", 7, asha, "viewing", 3_000);
    setPresence("ws_p1", 7, asha, "replying", 4_000);
    stop();
    expect(presenceOf("ws_p1", 7, 5_000).map((e) => [e.userId, e.activity])).toEqual([
      ["u_ravi", "viewing"],
      ["u_asha", "replying"],
    ]);
    expect(events.map((e) => e.type === "presence" && `${e.name}:${e.activity}`)).toEqual([
      "Asha:viewing",
      "Ravi:viewing",
      "Asha:replying",
    ]);
    // Another conversation and another workspace are separate.
    expect(presenceOf("ws_p1", 8, 5_000)).toEqual([]);
    expect(presenceOf("ws_other", 7, 5_000)).toEqual([]);
  });

  it("expires an entry not refreshed for 30 s and says they left", () => {
    const { events, stop } = listen("ws_p2");
    setPresence("ws_p2", 1, asha, "replying", 10_000);
    setPresence("ws_p2", 1, ravi, "viewing", 25_000);
    expect(presenceOf("ws_p2", 1, 10_000 + PRESENCE_TTL_MS).map((e) => e.userId)).toEqual([
      "u_asha",
      "u_ravi",
    ]);
    expect(presenceOf("ws_p2", 1, 10_001 + PRESENCE_TTL_MS).map((e) => e.userId)).toEqual([
      "u_ravi",
    ]);
    stop();
    expect(events.at(-1)).toMatchObject({ type: "presence", userId: "u_asha", activity: "left" });
    // A refresh keeps one present.
    setPresence("ws_p2", 1, ravi, "viewing", 50_000);
    expect(presenceOf("ws_p2", 1, 70_000).map((e) => e.userId)).toEqual(["u_ravi"]);
  });

  it("'left' removes the member at once", () => {
    setPresence("ws_p3", 1, asha, "viewing", 1_000);
    const { events, stop } = listen("ws_p3");
    setPresence("ws_p3", 1, asha, "left", 2_000);
    setPresence("ws_p3", 1, asha, "left", 3_000);
    stop();
    expect(presenceOf("ws_p3", 1, 2_000)).toEqual([]);
    expect(events).toHaveLength(1);
  });
});

describe("the soft lock", () => {
  const entry = (userId: string, name: string, activity: PresenceEntry["activity"], at = 1) => ({
    userId,
    name,
    activity,
    at,
  });

  it("names another member who is replying and asks before sending", () => {
    const lock = softLock(
      [entry("u_ravi", "Ravi", "replying"), entry("u_asha", "Asha", "viewing")],
      "u_asha",
    );
    expect(lock.banner).toBe("Ravi is replying");
    expect(lock.confirmBeforeSend).toBe(true);
    expect(lock.viewing).toEqual([]);
  });

  it("never locks the member out by their own typing; viewers do not lock", () => {
    const lock = softLock(
      [entry("u_asha", "Asha", "replying"), entry("u_ravi", "Ravi", "viewing")],
      "u_asha",
    );
    expect(lock.banner).toBeNull();
    expect(lock.confirmBeforeSend).toBe(false);
    expect(lock.viewing.map((e) => e.name)).toEqual(["Ravi"]);
  });

  it("names several repliers in arrival order", () => {
    const lock = softLock(
      [
        entry("c", "Chen", "replying", 3),
        entry("a", "Ana", "replying", 1),
        entry("b", "Bo", "replying", 2),
      ],
      "me",
    );
    expect(lock.banner).toBe("Ana, Bo and Chen are replying");
  });
});

describe("recordPresence", () => {
  let ctx: WorkspaceContext;
  let teamB: number;
  beforeAll(async () => {
    ctx = await makeWorkspace("presence-access");
    seedInboxTeam(ctx, "Team A", ["u_agent"]);
    teamB = seedInboxTeam(ctx, "Team B", ["u_other"]);
  });

  it("records a member in a conversation they may see, and refuses another team's", () => {
    const agent = { ...ctx, role: "agent" as const, userId: "u_agent" };
    const open = seedConversation(ctx);
    const theirs = seedConversation(ctx, { teamId: teamB });
    expect(recordPresence(agent, open, { id: "u_agent", name: "Agent" }, "viewing")).toHaveLength(
      1,
    );
    expect(
      thrown(() => recordPresence(agent, theirs, { id: "u_agent", name: "Agent" }, "viewing")),
    ).toBeInstanceOf(NotFoundError);
    expect(thrown(() => conversationPresence(agent, theirs))).toBeInstanceOf(NotFoundError);
    expect(thrown(() => conversationPresence(agent, 999_999))).toBeInstanceOf(NotFoundError);
    // A manager sees both.
    const owner = { ...ctx, role: "owner" as const, userId: "u_owner" };
    expect(recordPresence(owner, theirs, { id: "u_owner", name: "Owner" }, "viewing")).toHaveLength(
      1,
    );
    expect(presenceOf(ctx.workspaceId, theirs)).toHaveLength(1);
  });
});
