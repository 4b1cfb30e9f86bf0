import { describe, expect, it } from "vitest";
import { can, ROLES } from "~/auth/permissions";
import { canReply, canSeeConversation, INBOX_READERS, type InboxMember } from "./members.server";

/** The inbox's role rules agree with the permission table, and the agent scoping rule. */
describe("inbox members", () => {
  it("reads and replies exactly as the permission table says", () => {
    for (const role of ROLES) {
      expect(INBOX_READERS.includes(role), role).toBe(can(role, "inbox:read"));
      expect(canReply({ role }), role).toBe(can(role, "inbox:reply"));
    }
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
