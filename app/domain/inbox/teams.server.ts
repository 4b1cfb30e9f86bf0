import { can, type Permission } from "~/lib/permission-table";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { teamMembers, teams } from "~/db/schema/tenant-inbox";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import type { Role } from "~/lib/roles";
import type { TenantContext, WorkspaceContext } from "../context";
import { findMembership, listMembers } from "../workspaces/workspaces.server";

/**
 * Teams that conversations are routed to ("Sales", "Support"), and their members. Members come
 * from the workspace's memberships in the control database: only someone who may answer
 * conversations (inbox:reply) can be in a team.
 */

export const MAX_TEAM_NAME = 60;

export type InboxPermission = Extract<Permission, "inbox:read" | "inbox:reply">;

export interface InboxMember {
  userId: string;
  name: string;
  email: string;
  role: Role;
}

/** The workspace's members whose role has `permission`, by name. */
export function membersWith(
  ctx: Pick<WorkspaceContext, "workspaceId">,
  permission: InboxPermission,
) {
  return listMembers(ctx.workspaceId)
    .filter((m) => can(m.role, permission))
    .map(({ userId, name, email, role }): InboxMember => ({ userId, name, email, role }));
}

/** Whether the user is a member of this workspace whose role has `permission`. */
export function isMemberWith(
  ctx: Pick<WorkspaceContext, "workspaceId">,
  userId: string,
  permission: InboxPermission,
): boolean {
  const membership = findMembership(ctx.workspaceId, userId);
  return membership !== undefined && can(membership.role, permission);
}

export interface TeamWithMembers {
  id: number;
  name: string;
  createdAt: Date;
  members: InboxMember[];
}

export function listTeams(ctx: WorkspaceContext): TeamWithMembers[] {
  const rows = ctx.db.select().from(teams).orderBy(asc(teams.name)).all();
  const links = ctx.db.select().from(teamMembers).all();
  const people = new Map(listMembers(ctx.workspaceId).map((m) => [m.userId, m]));
  return rows.map((t) => ({
    id: t.id,
    name: t.name,
    createdAt: t.createdAt,
    members: links
      .filter((l) => l.teamId === t.id)
      .flatMap((l) => {
        const m = people.get(l.userId);
        // A member who left the workspace keeps no place in its teams' lists.
        return m ? [{ userId: m.userId, name: m.name, email: m.email, role: m.role }] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
  }));
}

export function getTeam({ db }: TenantContext, teamId: number) {
  const team = db.select().from(teams).where(eq(teams.id, teamId)).get();
  if (!team) throw new NotFoundError("Team", teamId);
  return team;
}

/** The ids of the teams the user is in (for an agent's view of the inbox). */
export function teamIdsOf({ db }: TenantContext, userId: string): number[] {
  return db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .where(eq(teamMembers.userId, userId))
    .all()
    .map((r) => r.teamId);
}

export function isInTeam({ db }: TenantContext, teamId: number, userId: string): boolean {
  return (
    db
      .select({ one: sql`1` })
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)))
      .get() !== undefined
  );
}

function cleanName(name: string): string {
  const clean = name.trim().replace(/\s+/g, " ");
  if (!clean)
    throw new ValidationError("Give the team a name.", { name: ["Give the team a name."] });
  if (clean.length > MAX_TEAM_NAME) {
    const message = `Use at most ${MAX_TEAM_NAME} characters.`;
    throw new ValidationError(message, { name: [message] });
  }
  return clean;
}

function assertNameFree({ db }: TenantContext, name: string, exceptId?: number) {
  const clash = db
    .select({ id: teams.id })
    .from(teams)
    .where(sql`lower(${teams.name}) = lower(${name})`)
    .get();
  if (clash && clash.id !== exceptId) {
    const message = `There is already a team called “${name}”.`;
    throw new ValidationError(message, { name: [message] });
  }
}

export function createTeam(ctx: WorkspaceContext, name: string) {
  const clean = cleanName(name);
  return ctx.db.transaction(
    (tx) => {
      assertNameFree(ctx, clean);
      return tx.insert(teams).values({ name: clean, createdAt: ctx.now() }).returning().get();
    },
    { behavior: "immediate" },
  );
}

export function renameTeam(ctx: WorkspaceContext, teamId: number, name: string) {
  const clean = cleanName(name);
  getTeam(ctx, teamId);
  assertNameFree(ctx, clean, teamId);
  ctx.db.update(teams).set({ name: clean }).where(eq(teams.id, teamId)).run();
  return getTeam(ctx, teamId);
}

/** Deletes a team; its conversations keep their assignee and lose the team (set null). */
export function deleteTeam(ctx: WorkspaceContext, teamId: number): { name: string } {
  const team = getTeam(ctx, teamId);
  ctx.db.delete(teams).where(eq(teams.id, teamId)).run();
  return { name: team.name };
}

export function addTeamMember(ctx: WorkspaceContext, teamId: number, userId: string) {
  getTeam(ctx, teamId);
  if (!isMemberWith(ctx, userId, "inbox:reply")) {
    const message =
      "Only members who can answer conversations (owner, admin, agent) can join a team.";
    throw new ValidationError(message, { userId: [message] });
  }
  const inserted = ctx.db
    .insert(teamMembers)
    .values({ teamId, userId })
    .onConflictDoNothing()
    .run();
  if (inserted.changes === 0) throw new ConflictError("That member is already in the team.");
}

export function removeTeamMember(ctx: WorkspaceContext, teamId: number, userId: string): void {
  getTeam(ctx, teamId);
  const removed = ctx.db
    .delete(teamMembers)
    .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)))
    .run();
  if (removed.changes === 0) throw new NotFoundError("Team member");
}

/** Team ids per user, for the users given (one query). */
export function teamsByUser({ db }: TenantContext, userIds: readonly string[]) {
  const map = new Map<string, Set<number>>();
  if (userIds.length === 0) return map;
  for (const row of db
    .select()
    .from(teamMembers)
    .where(inArray(teamMembers.userId, [...userIds]))
    .all()) {
    let set = map.get(row.userId);
    if (!set) map.set(row.userId, (set = new Set()));
    set.add(row.teamId);
  }
  return map;
}
