import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { users } from "~/db/schema/control";
import { NotFoundError } from "~/lib/errors";
import { normaliseEmail } from "~/lib/email-address";

export type User = typeof users.$inferSelect;

/** What pages may show about a user: never hashes or secrets. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  hasPassword: boolean;
  hasGoogle: boolean;
  mfaEnabled: boolean;
  isPlatformAdmin: boolean;
}

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: user.emailVerifiedAt !== null,
    hasPassword: user.passwordHash !== null,
    hasGoogle: user.googleSub !== null,
    mfaEnabled: user.totpEnabledAt !== null,
    isPlatformAdmin: user.isPlatformAdmin,
  };
}

export function findUserByEmail(email: string): User | undefined {
  return getControlDb()
    .select()
    .from(users)
    .where(eq(users.email, normaliseEmail(email)))
    .get();
}

export function findUserById(id: string): User | undefined {
  return getControlDb().select().from(users).where(eq(users.id, id)).get();
}

export function getUser(id: string): User {
  const user = findUserById(id);
  if (!user) throw new NotFoundError("User");
  return user;
}
