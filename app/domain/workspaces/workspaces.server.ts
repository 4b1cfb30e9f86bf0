import { and, asc, eq, ne } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import {
  CURRENCIES,
  memberships,
  users,
  workspaces,
  type Currency,
  type Role,
} from "~/db/schema/control";
import { deleteTenantDb, newWorkspaceId, provisionTenantDb } from "~/db/tenants.server";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import { SLUG_MAX, slugFromName } from "~/lib/slug";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { canonicalTimeZone, COUNTRY_CODES, RESERVED_SLUGS, SLUG_PATTERN } from "./options";
import { releaseInboxMemberIn } from "../inbox/departures.server";

export type Workspace = typeof workspaces.$inferSelect;

export interface WorkspaceSettingsInput {
  name: string;
  country: string;
  timezone: string;
  currency: string;
}

function validateSettings(input: WorkspaceSettingsInput) {
  const fieldErrors: Record<string, string[]> = {};
  const name = input.name.trim();
  if (!name || name.length > 80) fieldErrors.name = ["Enter a name of up to 80 characters."];
  const country = input.country.trim().toUpperCase();
  if (!COUNTRY_CODES.includes(country)) fieldErrors.country = ["Choose a country from the list."];
  const timezone = canonicalTimeZone(input.timezone);
  if (!timezone) fieldErrors.timezone = ["Choose a time zone from the list."];
  if (!(CURRENCIES as readonly string[]).includes(input.currency)) {
    fieldErrors.currency = ["Choose INR or USD."];
  }
  if (Object.keys(fieldErrors).length) {
    throw new ValidationError("Check the highlighted fields.", fieldErrors);
  }
  return { name, country, timezone: timezone!, currency: input.currency as Currency };
}

/** Delivery settings saved with the general ones (the settings page has one form). */
export interface DeliverySettingsInput {
  trackOpens: boolean;
  trackClicks: boolean;
  /** Comma-separated extra opt-out keywords. */
  stopKeywords: string;
}

/** STOP, UNSUBSCRIBE, STOP ALL and रोकें always work; these are the workspace's additions. */
const BUILT_IN_STOP_WORDS = ["STOP", "UNSUBSCRIBE", "STOP ALL", "रोकें"];
const MAX_STOP_KEYWORDS = 20;
const MAX_STOP_KEYWORD_LENGTH = 40;

/**
 * Normalises the opt-out keywords: trimmed, inner spaces collapsed, duplicates (ignoring case)
 * and the built-in words dropped, stored comma-separated.
 */
export function normaliseStopKeywords(input: string): string {
  const seen = new Set(BUILT_IN_STOP_WORDS.map((w) => w.toUpperCase()));
  const words: string[] = [];
  for (const raw of input.split(",")) {
    const word = raw.trim().replace(/\s+/g, " ");
    if (!word) continue;
    if (word.length > MAX_STOP_KEYWORD_LENGTH) {
      const message = `Keep each keyword under ${MAX_STOP_KEYWORD_LENGTH} characters: “${word.slice(0, 20)}…” is too long.`;
      throw new ValidationError(message, { stopKeywords: [message] });
    }
    if (seen.has(word.toUpperCase())) continue;
    seen.add(word.toUpperCase());
    words.push(word);
  }
  if (words.length > MAX_STOP_KEYWORDS) {
    const message = `Use at most ${MAX_STOP_KEYWORDS} keywords.`;
    throw new ValidationError(message, { stopKeywords: [message] });
  }
  return words.join(",");
}

export function validateSlug(input: string): string {
  const slug = input.trim().toLowerCase();
  const problem = !SLUG_PATTERN.test(slug)
    ? "Use 3–40 lower-case letters, digits and hyphens, starting and ending with a letter or digit."
    : RESERVED_SLUGS.has(slug)
      ? "That address is reserved. Choose another."
      : null;
  if (problem) throw new ValidationError(problem, { slug: [problem] });
  return slug;
}

/**
 * The address a workspace gets when the form leaves it empty (no JavaScript to fill it in):
 * made from the name, with -2, -3 … when that one is taken or reserved.
 */
export function freeSlugFor(name: string, isTaken: (slug: string) => boolean): string {
  let base = slugFromName(name);
  if (base.length < 3) base = base ? `${base}-workspace` : "workspace";
  for (let n = 1; n < 1000; n++) {
    const suffix = n === 1 ? "" : `-${n}`;
    const slug = `${base.slice(0, SLUG_MAX - suffix.length).replace(/-+$/, "")}${suffix}`;
    if (SLUG_PATTERN.test(slug) && !RESERVED_SLUGS.has(slug) && !isTaken(slug)) return slug;
  }
  throw new ValidationError("Choose an address for the workspace.", {
    slug: ["Choose an address for the workspace."],
  });
}

/**
 * Onboarding: the workspace row, its owner and its own database file, all or nothing. An empty
 * slug is made from the name.
 */
export function createWorkspace(
  ctx: SystemContext,
  ownerId: string,
  input: WorkspaceSettingsInput & { slug: string },
): Workspace {
  const settings = validateSettings(input);
  const db = getControlDb();
  const taken = (candidate: string) =>
    db
      .select({ id: workspaces.id })
      .from(workspaces)
      .where(eq(workspaces.slug, candidate))
      .get() !== undefined;
  const slug =
    input.slug.trim() === "" ? freeSlugFor(settings.name, taken) : validateSlug(input.slug);
  const id = newWorkspaceId();
  const workspace = db.transaction((tx) => {
    if (tx.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.slug, slug)).get()) {
      throw new ValidationError("That address is taken. Choose another.", {
        slug: ["That address is taken. Choose another."],
      });
    }
    const row = tx
      .insert(workspaces)
      .values({ id, slug, ...settings })
      .returning()
      .get();
    tx.insert(memberships).values({ workspaceId: id, userId: ownerId, role: "owner" }).run();
    return row;
  });
  try {
    provisionTenantDb(id);
  } catch (error) {
    // Nothing half-made: without its file the workspace must not exist either.
    db.delete(workspaces).where(eq(workspaces.id, id)).run();
    deleteTenantDb(id);
    throw error;
  }
  recordAudit(ctx, {
    action: "workspace.created",
    workspaceId: id,
    target: { type: "workspace", id },
    details: { slug, ...settings },
  });
  return workspace;
}

/**
 * Saves the general settings and, when given, the delivery ones (email open/click tracking,
 * extra opt-out keywords) in one change and one audit entry.
 */
export function updateWorkspaceSettings(
  ctx: SystemContext,
  workspaceId: string,
  input: WorkspaceSettingsInput & Partial<DeliverySettingsInput>,
): Workspace {
  const settings = {
    ...validateSettings(input),
    ...(input.trackOpens === undefined ? {} : { trackOpens: input.trackOpens }),
    ...(input.trackClicks === undefined ? {} : { trackClicks: input.trackClicks }),
    ...(input.stopKeywords === undefined
      ? {}
      : { stopKeywords: normaliseStopKeywords(input.stopKeywords) }),
  };
  const row = getControlDb()
    .update(workspaces)
    .set(settings)
    .where(eq(workspaces.id, workspaceId))
    .returning()
    .get();
  if (!row) throw new NotFoundError("Workspace");
  recordAudit(ctx, {
    action: "workspace.settings_updated",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
    details: settings,
  });
  return row;
}

/** Far above any audience; keeps the number an ordinary integer. */
const MAX_APPROVAL_THRESHOLD = 100_000_000;

/**
 * Campaigns to more eligible recipients than this wait for a second admin's approval. Typed as
 * text: blank means no campaign needs approval; otherwise a whole number of at least 1
 * ("10,000" is read as 10000). Returns the saved threshold.
 */
export function setApprovalThreshold(
  ctx: SystemContext,
  workspaceId: string,
  input: string,
): number | null {
  const text = input.trim().replace(/[,\s]/g, "");
  let threshold: number | null = null;
  if (text) {
    const problem = !/^-?\d+$/.test(text)
      ? "Enter a whole number of recipients, or leave it blank so no campaign needs approval."
      : Number(text) < 1
        ? "Use 1 or more, or leave it blank so no campaign needs approval."
        : Number(text) > MAX_APPROVAL_THRESHOLD
          ? `Use at most ${MAX_APPROVAL_THRESHOLD.toLocaleString("en-IN")}, or leave it blank.`
          : null;
    if (problem) throw new ValidationError(problem, { approvalThreshold: [problem] });
    threshold = Number(text);
  }
  const db = getControlDb();
  const before = db
    .select({ threshold: workspaces.approvalThreshold })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!before) throw new NotFoundError("Workspace");
  if (before.threshold === threshold) return threshold;
  db.update(workspaces)
    .set({ approvalThreshold: threshold })
    .where(eq(workspaces.id, workspaceId))
    .run();
  recordAudit(ctx, {
    action: "workspace.approval_threshold_changed",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
    details: { from: before.threshold, to: threshold },
  });
  return threshold;
}

export function setRequireMfa(ctx: SystemContext, workspaceId: string, required: boolean): void {
  getControlDb()
    .update(workspaces)
    .set({ requireMfa: required })
    .where(eq(workspaces.id, workspaceId))
    .run();
  recordAudit(ctx, {
    action: required ? "workspace.mfa_required" : "workspace.mfa_optional",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
  });
}

export function findWorkspaceById(id: string): Workspace | undefined {
  return getControlDb().select().from(workspaces).where(eq(workspaces.id, id)).get();
}

export function findWorkspaceBySlug(slug: string): Workspace | undefined {
  if (!slug || slug.length > 64) return undefined;
  return getControlDb().select().from(workspaces).where(eq(workspaces.slug, slug)).get();
}

export interface MyWorkspace {
  id: string;
  slug: string;
  name: string;
  role: Role;
  status: Workspace["status"];
}

export function listMyWorkspaces(userId: string): MyWorkspace[] {
  return getControlDb()
    .select({
      id: workspaces.id,
      slug: workspaces.slug,
      name: workspaces.name,
      role: memberships.role,
      status: workspaces.status,
    })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), ne(workspaces.status, "deleted")))
    .orderBy(asc(workspaces.name))
    .all();
}

export function findMembership(workspaceId: string, userId: string): { role: Role } | undefined {
  return getControlDb()
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .get();
}

export interface Member {
  userId: string;
  name: string;
  email: string;
  role: Role;
  mfaEnabled: boolean;
  joinedAt: Date;
}

export function listMembers(workspaceId: string): Member[] {
  return getControlDb()
    .select({
      userId: users.id,
      name: users.name,
      email: users.email,
      role: memberships.role,
      totpEnabledAt: users.totpEnabledAt,
      joinedAt: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, workspaceId))
    .orderBy(asc(users.name))
    .all()
    .map(({ totpEnabledAt, ...m }) => ({ ...m, mfaEnabled: totpEnabledAt !== null }));
}

/** Roles an acting member may hand out: owners any but owner (that is a transfer), admins up to admin. */
export function assignableRoles(actorRole: Role): Role[] {
  if (actorRole === "owner") return ["admin", "marketer", "agent", "viewer"];
  if (actorRole === "admin") return ["admin", "marketer", "agent", "viewer"];
  return [];
}

function requireMember(workspaceId: string, userId: string) {
  const membership = findMembership(workspaceId, userId);
  if (!membership) throw new NotFoundError("Member");
  return membership;
}

export function changeMemberRole(
  ctx: SystemContext & { role: Role },
  workspaceId: string,
  userId: string,
  role: Role,
): void {
  const current = requireMember(workspaceId, userId);
  if (current.role === "owner") {
    throw new ConflictError("The owner's role changes only by transferring ownership.");
  }
  if (!assignableRoles(ctx.role).includes(role)) {
    throw new ValidationError("You can't give that role.", { role: ["You can't give that role."] });
  }
  getControlDb()
    .update(memberships)
    .set({ role })
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .run();
  recordAudit(ctx, {
    action: "member.role_changed",
    workspaceId,
    target: { type: "user", id: userId },
    details: { from: current.role, to: role },
  });
}

export function removeMember(ctx: SystemContext, workspaceId: string, userId: string): void {
  const current = requireMember(workspaceId, userId);
  if (current.role === "owner") {
    throw new ConflictError("Transfer ownership before removing the owner.");
  }
  // First, so nothing is assigned to them once they are gone.
  releaseInboxMemberIn(workspaceId, userId);
  getControlDb()
    .delete(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .run();
  recordAudit(ctx, {
    action: "member.removed",
    workspaceId,
    target: { type: "user", id: userId },
    details: { role: current.role },
  });
}

/** The owner hands the workspace to another member and becomes an admin. */
export function transferOwnership(
  ctx: SystemContext,
  workspaceId: string,
  fromUserId: string,
  toUserId: string,
): void {
  if (fromUserId === toUserId) throw new ValidationError("You already own this workspace.");
  const db = getControlDb();
  db.transaction((tx) => {
    const from = tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, fromUserId)))
      .get();
    if (from?.role !== "owner") throw new ConflictError("Only the owner can transfer ownership.");
    const to = tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, toUserId)))
      .get();
    if (!to) throw new NotFoundError("Member");
    tx.update(memberships)
      .set({ role: "admin" })
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, fromUserId)))
      .run();
    tx.update(memberships)
      .set({ role: "owner" })
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, toUserId)))
      .run();
  });
  recordAudit(ctx, {
    action: "workspace.ownership_transferred",
    workspaceId,
    target: { type: "user", id: toUserId },
    details: { from: fromUserId },
  });
}

/**
 * An operator (the CLI) gives an existing user a role in a workspace, for installs with no mail
 * server to send invitations yet: a new membership, or a changed role through the same function
 * the Members page uses. "owner" hands the workspace over as a transfer does (the current owner
 * becomes an admin). Only active accounts with a verified address: an unverified one may have
 * been opened by someone who does not own that mailbox.
 */
export function setMembershipByOperator(
  ctx: SystemContext,
  workspaceId: string,
  userId: string,
  role: Role,
): { userId: string; role: Role; previousRole: Role | null } {
  const user = getControlDb().select().from(users).where(eq(users.id, userId)).get();
  if (!user) throw new NotFoundError("User");
  if (user.status !== "active") {
    throw new ConflictError(`The account ${user.email} is ${user.status}.`);
  }
  if (!user.emailVerifiedAt) {
    throw new ConflictError(
      `The account ${user.email} has not verified its email address, so it can't join a workspace yet.`,
    );
  }
  const workspace = getControlDb()
    .select({ status: workspaces.status })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!workspace || workspace.status === "deleted") throw new NotFoundError("Workspace");
  const current = findMembership(workspaceId, userId);
  if (current?.role === role) {
    throw new ConflictError(`${user.email} is already a member with the role ${role}.`);
  }
  if (current?.role === "owner") {
    throw new ConflictError(
      `${user.email} owns this workspace; give another member the owner role to hand it over.`,
    );
  }
  if (!current) {
    getControlDb()
      .insert(memberships)
      .values({ workspaceId, userId, role: role === "owner" ? "admin" : role })
      .run();
    recordAudit(ctx, {
      action: "member.added",
      workspaceId,
      target: { type: "user", id: userId },
      details: { role },
    });
  } else if (role !== "owner") {
    changeMemberRole({ ...ctx, role: "owner" }, workspaceId, userId, role);
  }
  if (role === "owner") {
    const owner = getControlDb()
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.role, "owner")))
      .get();
    if (owner) {
      transferOwnership(ctx, workspaceId, owner.userId, userId);
    } else {
      getControlDb()
        .update(memberships)
        .set({ role: "owner" })
        .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
        .run();
      recordAudit(ctx, {
        action: "member.role_changed",
        workspaceId,
        target: { type: "user", id: userId },
        details: { from: current?.role ?? "admin", to: "owner" },
      });
    }
  }
  return { userId, role, previousRole: current?.role ?? null };
}

/** Privacy requests about this workspace's contacts are approved without waiting. */
export function setDsarAutoApprove(ctx: SystemContext, workspaceId: string, on: boolean): void {
  getControlDb()
    .update(workspaces)
    .set({ dsarAutoApprove: on })
    .where(eq(workspaces.id, workspaceId))
    .run();
  recordAudit(ctx, {
    action: on ? "workspace.dsar_auto_approve_on" : "workspace.dsar_auto_approve_off",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
  });
}
