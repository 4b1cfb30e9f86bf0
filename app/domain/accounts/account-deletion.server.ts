import { and, count, eq, ne } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { memberships, users, workspaces } from "~/db/schema/control";
import { normaliseEmail } from "~/lib/email-address";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import { forgetAiUsageUser } from "../ai/usage.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { findUserByEmail, getUser } from "./users.server";
import { releaseInboxMemberEverywhere } from "../inbox/departures.server";

/**
 * Deleting a person's account (erasure request, policy §5 and §8). Sessions, memberships,
 * tokens, recovery codes and policy acceptances go with the user row (foreign keys cascade);
 * AI usage rows keep their counts without the user id. Audit rows stay: they hold only the id.
 */

/** Active workspaces where this user is the only owner: deleting them would orphan those. */
export function soleOwnedWorkspaces(userId: string): { id: string; name: string }[] {
  const db = getControlDb();
  const owned = db
    .select({ id: workspaces.id, name: workspaces.name })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(
      and(
        eq(memberships.userId, userId),
        eq(memberships.role, "owner"),
        ne(workspaces.status, "deleted"),
      ),
    )
    .all();
  return owned.filter((w) => {
    const others = db
      .select({ n: count() })
      .from(memberships)
      .where(
        and(
          eq(memberships.workspaceId, w.id),
          eq(memberships.role, "owner"),
          ne(memberships.userId, userId),
        ),
      )
      .get();
    return (others?.n ?? 0) === 0;
  });
}

export function deleteUserAccount(ctx: SystemContext, userId: string): { memberships: number } {
  const orphaned = soleOwnedWorkspaces(userId);
  if (orphaned.length) {
    throw new ConflictError(
      `This person is the only owner of ${orphaned.map((w) => `“${w.name}”`).join(", ")}. Transfer the ownership or delete the workspace first, then fulfil the erasure.`,
    );
  }
  releaseInboxMemberEverywhere(userId);
  const db = getControlDb();
  const removed = db.transaction((tx) => {
    const held = tx
      .select({ n: count() })
      .from(memberships)
      .where(eq(memberships.userId, userId))
      .get();
    const deleted = tx.delete(users).where(eq(users.id, userId)).run().changes;
    if (!deleted) throw new NotFoundError("User", userId);
    return held?.n ?? 0;
  });
  forgetAiUsageUser(userId);
  recordAudit(ctx, {
    action: "account.deleted",
    target: { type: "user", id: userId },
    details: { memberships: removed },
  });
  return { memberships: removed };
}

/**
 * Corrects an account's address on a verified privacy request. The new address must be
 * confirmed again (verification is cleared), as after any change not made by its owner.
 */
export function correctAccountEmail(ctx: SystemContext, userId: string, input: string): void {
  const email = normaliseEmail(input);
  const user = getUser(userId);
  if (email === user.email) return;
  if (findUserByEmail(email)) {
    const message = "Another account already uses this address.";
    throw new ValidationError(message, { email: [message] });
  }
  getControlDb()
    .update(users)
    .set({ email, emailVerifiedAt: null })
    .where(eq(users.id, userId))
    .run();
  recordAudit(ctx, { action: "account.email_corrected", target: { type: "user", id: userId } });
}
