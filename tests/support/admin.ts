import { and, desc, eq } from "drizzle-orm";
import { authenticator } from "otplib";
import { randomBytes } from "node:crypto";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { createUserByOperator } from "~/domain/admin/admin.server";
import { beginTotpEnrolment, confirmTotpEnrolment } from "~/domain/accounts/mfa.server";
import type { SystemContext } from "~/domain/context";
import { browserFor, type Browser, type TestUser } from "./accounts";
import type { TestServer } from "./server";

/**
 * Platform admins for route tests, made through the same domain functions the CLI uses, in the
 * test process (which shares DATA_DIR with the server; see tests/support/accounts.ts).
 */

const STEP_MS = 30_000;

export interface TestAdmin extends TestUser {
  /** The TOTP secret, once MFA is on. */
  totpSecret?: string;
}

function operatorContext(): SystemContext {
  return { actor: { type: "cli" }, now: () => new Date() };
}

/** A verified platform admin, as `npm run engage -- admin create` makes one (MFA still off). */
export async function createPlatformAdmin(
  input: { email?: string; name?: string } = {},
): Promise<TestAdmin> {
  const email = input.email ?? `admin-${randomBytes(4).toString("hex")}@example.com`;
  const name = input.name ?? "Test Admin";
  const password = `quartz meadow lantern ${randomBytes(4).toString("hex")}`;
  const user = await createUserByOperator(operatorContext(), {
    email,
    name,
    password,
    platformAdmin: true,
  });
  return { id: user.id, email: user.email, name, password };
}

/** The code an authenticator app shows `steps` time steps from now. */
export function totpCode(secret: string, steps = 0): string {
  const step = Math.floor(Date.now() / STEP_MS) + steps;
  return authenticator.clone({ epoch: step * STEP_MS }).generate(secret);
}

/** Turns MFA on the way the enrolment page does: a new secret, then a first code from it. */
export async function enrolTotp(user: TestAdmin): Promise<string> {
  const ctx: SystemContext = { actor: { type: "user", id: user.id }, now: () => new Date() };
  const { secret } = beginTotpEnrolment(ctx, user.id);
  await confirmTotpEnrolment(ctx, user.id, authenticator.generate(secret));
  user.totpSecret = secret;
  return secret;
}

function sessionCookieFrom(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => /^(__Host-)?engage_session=./.test(c));
}

/**
 * Signs a user with MFA in through /login and /login/mfa. Each TOTP step is accepted once, and
 * enrolment used the current one, so the code is the next step's (inside the allowed drift).
 */
export async function signInWithTotp(server: TestServer, user: TestAdmin): Promise<Browser> {
  if (!user.totpSecret) throw new Error(`${user.email} has no TOTP secret`);
  const form = { "content-type": "application/x-www-form-urlencoded", origin: server.url };
  const first = await server.fetch("/login", {
    method: "POST",
    headers: form,
    body: new URLSearchParams({ email: user.email, password: user.password }).toString(),
  });
  const pending = sessionCookieFrom(first);
  if (
    first.status !== 302 ||
    !pending ||
    !first.headers.get("location")?.startsWith("/login/mfa")
  ) {
    throw new Error(
      `password step for ${user.email} failed: ${first.status}\n${(await first.text()).slice(0, 500)}`,
    );
  }
  const second = await server.fetch("/login/mfa", {
    method: "POST",
    headers: { ...form, cookie: pending },
    body: new URLSearchParams({ code: totpCode(user.totpSecret, 1) }).toString(),
  });
  const cookie = sessionCookieFrom(second);
  if (second.status !== 302 || !cookie) {
    throw new Error(
      `second factor for ${user.email} failed: ${second.status}\n${(await second.text()).slice(0, 500)}`,
    );
  }
  return browserFor(server, cookie);
}

/** The newest audit row for an action on a target, if any. */
export function lastAuditRow(action: string, targetId: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)))
    .orderBy(desc(auditLog.id))
    .limit(1)
    .get();
}
