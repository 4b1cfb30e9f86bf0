import { describe, expect, it } from "vitest";
import { canReply, canSeeConversation, type InboxMember } from "./members.server";

/** The inbox's role rules agree with the permission table, and the agent scoping rule. */
describe("inbox members", () => {
  it("a viewer sees no conversation; a marketer sees every one and cannot reply", () => {
    const open = { assigneeId: null, teamId: null };
    const viewer: InboxMember = { userId: "v", name: "V", role: "viewer", teamIds: [] };
    const marketer: InboxMember = { userId: "m", name: "M", role: "marketer", teamIds: [] };
    expect(canSeeConversation(viewer, open)).toBe(false);
    expect(canSeeConversation(marketer, { assigneeId: "u9", teamId: 7 })).toBe(true);
    expect(canReply(marketer)).toBe(false);
    expect(canReply({ role: "agent" })).toBe(true);
  });

  it("an agent sees their own, their teams' and unteamed unassigned conversations", () => {
    const agent: InboxMember = { userId: "u1", name: "A", role: "agent", teamIds: [1] };
    expect(canSeeConversation(agent, { assigneeId: "u1", teamId: 2 })).toBe(true);
    expect(canSeeConversation(agent, { assigneeId: null, teamId: 1 })).toBe(true);
    expect(canSeeConversation(agent, { assigneeId: null, teamId: null })).toBe(true);
    expect(canSeeConversation(agent, { assigneeId: null, teamId: 2 })).toBe(false);
    expect(canSeeConversation(agent, { assigneeId: "u2", teamId: null })).toBe(false);
    const viewer: InboxMember = { ...agent, role: "viewer" };
    expect(canSeeConversation(viewer, { assigneeId: null, teamId: null })).toBe(false);
    const marketer: InboxMember = { ...agent, role: "marketer" };
    expect(canSeeConversation(marketer, { assigneeId: "u2", teamId: 2 })).toBe(true);
  });
});
