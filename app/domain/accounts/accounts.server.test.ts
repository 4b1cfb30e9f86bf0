import { and, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, authTokens, policyAcceptances, users } from "~/db/schema/control";
import { listFileMailbox, type MailboxMessage } from "~/emails/transport.server";
import { RateLimitedError, ValidationError } from "~/lib/errors";
import { createUserByOperator } from "../admin/admin.server";
import type { SystemContext } from "../context";
import {
  changePassword,
  checkPassword,
  confirmEmailChange,
  isResetLinkValid,
  requestEmailChange,
  requestPasswordReset,
  resendVerification,
  resetPassword,
  SignInFailedError,
  signUp,
  verifyEmail,
} from "./accounts.server";
import { bcryptCostOf, verifyPassword } from "./passwords.server";
import { createSession, findSession, listSessions } from "./sessions.server";
import { findUserByEmail, getUser, type User } from "./users.server";
import { rejected } from "../../../tests/support/errors";
import { sendMailToFiles, mailTo } from "../../../tests/support/mailbox";

sendMailToFiles();

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.parse("2030-03-01T09:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);
const PASSWORD = "plum orbit saddle 42";
const NEW_PASSWORD = "velvet harbour lantern 7";

let ipSeq = 0;
/** A context at `when`; each gets its own address so per-IP limits stay out of the way. */
function ctxAt(when: Date, actor: SystemContext["actor"] = { type: "system", id: "test" }) {
  ipSeq += 1;
  return {
    actor,
    now: () => when,
    request: { ip: `198.51.100.${ipSeq % 250}`, userAgent: "vitest" },
  } satisfies SystemContext;
}

async function mailTotal(): Promise<number> {
  return (await listFileMailbox({ limit: 0, offset: 0 })).total;
}

/** The token of the `path?token=` link in a mail's text. */
function linkToken(message: MailboxMessage | undefined, path: string): string {
  const match = new RegExp(`https://engage\\.test${path}\\?token=([A-Za-z0-9_%-]+)`).exec(
    message?.text ?? "",
  );
  if (!match) throw new Error(`no ${path} link in ${message?.subject ?? "(no mail)"}`);
  return decodeURIComponent(match[1]!);
}

const userCount = () => getControlDb().select({ n: count() }).from(users).get()!.n;

function auditRows(action: string, targetId: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)))
    .all();
}

const NEW_EMAIL = "new.person@accounts.test";

/** Made once for the file (bcrypt runs on the thread pool, so they are made together). */
let newcomer: User;
const people: Record<"locked" | "reset" | "change" | "mover", User> = {} as never;

beforeAll(async () => {
  const names = ["locked", "reset", "change", "mover"] as const;
  const [made] = await Promise.all([
    Promise.all(
      names.map((name) =>
        createUserByOperator(ctxAt(at(0), { type: "cli" }), {
          name: `Person ${name}`,
          email: `${name}@accounts.test`,
          password: PASSWORD,
        }),
      ),
    ),
    signUp(ctxAt(at(0)), {
      name: "  New Person ",
      email: "  New.Person@Accounts.TEST ",
      password: PASSWORD,
      ageConfirmed: true,
      policyAccepted: true,
    }),
  ]);
  names.forEach((name, i) => (people[name] = made[i]!));
  newcomer = findUserByEmail(NEW_EMAIL)!;
});

describe("signUp", () => {
  it("records the age confirmation, the policy version and its acceptance", () => {
    expect(newcomer).toBeDefined();
    expect(newcomer.email).toBe(NEW_EMAIL);
    expect(newcomer.name).toBe("New Person");
    expect(newcomer.ageConfirmedAt).toEqual(at(0));
    // Version 1 (the shipped policy) is in force; the acceptance is also its own row.
    expect(newcomer.policyVersion).toBe("1");
    expect(newcomer.policyAcceptedAt).toEqual(at(0));
    const acceptances = getControlDb()
      .select()
      .from(policyAcceptances)
      .where(eq(policyAcceptances.userId, newcomer.id))
      .all();
    expect(acceptances).toEqual([{ userId: newcomer.id, version: 1, acceptedAt: at(0) }]);
    expect(newcomer.status).toBe("active");
    expect(auditRows("auth.signed_up", newcomer.id)).toHaveLength(1);
  });

  it("stores a bcrypt hash (cost 12 or more) and never the password", () => {
    expect(newcomer.passwordHash).toMatch(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/);
    expect(bcryptCostOf(newcomer.passwordHash!)).toBeGreaterThanOrEqual(12);
    const raw = JSON.stringify(
      getControlDb().$client.prepare("SELECT * FROM users WHERE id = ?").get(newcomer.id),
    );
    expect(raw).not.toContain(PASSWORD);
    // That it is the hash of PASSWORD shows when checkPassword accepts it (below).
  });

  it("keeps where to continue after verification, through a resent link", async () => {
    const email = `return-to-${Date.now()}@accounts.test`;
    await signUp(ctxAt(at(0)), {
      name: "Invited Person",
      email,
      password: PASSWORD,
      ageConfirmed: true,
      policyAccepted: true,
      returnTo: "/invitations/abc123",
    });
    const user = findUserByEmail(email)!;
    await resendVerification(ctxAt(at(MINUTE)), user.id);
    const [resent] = await mailTo(email);
    expect(verifyEmail(ctxAt(at(2 * MINUTE)), linkToken(resent, "/verify-email"))).toEqual({
      userId: user.id,
      returnTo: "/invitations/abc123",
    });
  });

  it("mails a verification link that works once and expires after 24 hours", async () => {
    const id = newcomer.id;
    expect(newcomer.emailVerifiedAt).toBeNull();
    const [mail] = await mailTo(NEW_EMAIL);
    expect(mail!.subject).toBe("Confirm your email address for Pleisys Engage");
    const first = linkToken(mail, "/verify-email");

    // Expired at exactly 24 hours.
    expect(verifyEmail(ctxAt(at(24 * HOUR)), first)).toBeNull();
    expect(getUser(id).emailVerifiedAt).toBeNull();

    // A resent link retires the first one and has its own 24 hours.
    const sent = at(HOUR);
    await resendVerification(ctxAt(sent), id);
    const mails = await mailTo(NEW_EMAIL);
    expect(mails).toHaveLength(2);
    const second = linkToken(mails[0], "/verify-email");
    expect(second).not.toBe(first);
    expect(verifyEmail(ctxAt(at(2 * HOUR)), first)).toBeNull();
    expect(verifyEmail(ctxAt(at(HOUR + 24 * HOUR)), second)).toBeNull();
    expect(getUser(id).emailVerifiedAt).toBeNull();

    // Before then it works, once.
    const when = at(HOUR + 24 * HOUR - SECOND);
    expect(verifyEmail(ctxAt(when), second)).toEqual({ userId: id, returnTo: null });
    expect(getUser(id).emailVerifiedAt).toEqual(when);
    expect(verifyEmail(ctxAt(when), second)).toBeNull();
    expect(verifyEmail(ctxAt(at(2 * HOUR)), second)).toBeNull();
    expect(verifyEmail(ctxAt(when), "not-a-token")).toBeNull();
    expect(verifyEmail(ctxAt(when), "")).toBeNull();

    // Nothing more to send once verified.
    await resendVerification(ctxAt(when), id);
    expect(await mailTo(NEW_EMAIL)).toHaveLength(2);
  });

  it("refuses without the age confirmation, creating nothing", async () => {
    const before = { users: userCount(), mail: await mailTotal() };
    const error = await rejected(
      signUp(ctxAt(at(0)), {
        name: "Young Person",
        email: "young@accounts.test",
        password: PASSWORD,
        ageConfirmed: false,
        policyAccepted: true,
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.ageConfirmed).toBeDefined();
    expect(findUserByEmail("young@accounts.test")).toBeUndefined();
    expect({ users: userCount(), mail: await mailTotal() }).toEqual(before);
  });

  it("refuses without accepting the privacy policy, creating nothing", async () => {
    const before = { users: userCount(), mail: await mailTotal() };
    const error = await rejected(
      signUp(ctxAt(at(0)), {
        name: "Hasty Person",
        email: "hasty@accounts.test",
        password: PASSWORD,
        ageConfirmed: true,
        policyAccepted: false,
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.policyAccepted).toBeDefined();
    expect(findUserByEmail("hasty@accounts.test")).toBeUndefined();
    expect({ users: userCount(), mail: await mailTotal() }).toEqual(before);
  });

  it("refuses a weak password, creating nothing", async () => {
    const before = { users: userCount(), mail: await mailTotal() };
    const error = await rejected(
      signUp(ctxAt(at(0)), {
        name: "Weak Person",
        email: "weak@accounts.test",
        password: "password1234",
        ageConfirmed: true,
        policyAccepted: true,
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.password).toBeDefined();
    expect(findUserByEmail("weak@accounts.test")).toBeUndefined();
    expect({ users: userCount(), mail: await mailTotal() }).toEqual(before);
  });

  it("with an address that has an account creates nothing, answers the same, and mails the owner", async () => {
    const before = { users: userCount(), mails: (await mailTo(NEW_EMAIL)).length };
    const result = await signUp(ctxAt(at(0)), {
      name: "Impostor",
      email: "NEW.PERSON@accounts.test",
      password: "a different passphrase 9",
      ageConfirmed: true,
      policyAccepted: true,
    });
    expect(result).toBeUndefined();
    expect(userCount()).toBe(before.users);
    const after = getUser(newcomer.id);
    expect(after.name).toBe("New Person");
    expect(after.passwordHash).toBe(newcomer.passwordHash);

    const mails = await mailTo(NEW_EMAIL);
    expect(mails).toHaveLength(before.mails + 1);
    expect(mails[0]!.subject).toBe("You already have a Pleisys Engage account");
    // The mail carries a working reset link for the real owner.
    expect(isResetLinkValid(linkToken(mails[0], "/reset-password"), at(0))).toBe(true);
    expect(auditRows("auth.signup_existing_email", newcomer.id)).toHaveLength(1);
  });
});

describe("requestPasswordReset", () => {
  it("for an unknown address sends nothing and does not throw", async () => {
    const before = await mailTotal();
    await expect(
      requestPasswordReset(ctxAt(at(0)), "nobody-here@accounts.test"),
    ).resolves.toBeUndefined();
    expect(await mailTotal()).toBe(before);
  });
});

// Each test below has its own account, so they run together: bcrypt is most of their time.
describe.concurrent("with an account", () => {
  it("checkPassword returns the user for the right password, whatever the case of the address", async () => {
    const user = await checkPassword(ctxAt(at(0)), "  New.Person@Accounts.TEST ", PASSWORD);
    expect(user.id).toBe(newcomer.id);
  });

  it("checkPassword answers a wrong password and an unknown address with the same error", async () => {
    const [wrong, unknown] = await Promise.all([
      rejected(checkPassword(ctxAt(at(0)), NEW_EMAIL, "not the right passphrase")),
      rejected(checkPassword(ctxAt(at(0)), "nobody@accounts.test", "not the right passphrase")),
    ]);
    expect(wrong).toBeInstanceOf(SignInFailedError);
    expect(unknown).toBeInstanceOf(SignInFailedError);
    expect(unknown.constructor).toBe(wrong.constructor);
    expect(unknown.message).toBe(wrong.message);
    expect((unknown as SignInFailedError).status).toBe((wrong as SignInFailedError).status);
    expect(wrong.message).toBe("Email or password is incorrect.");
  });

  it("checkPassword: a success clears the failures; 5 in a row lock the account, longer each time", async () => {
    const { email, id } = people.locked;
    const fail = (when: Date) => rejected(checkPassword(ctxAt(when), email, "a wrong guess 123"));
    const failTimes = async (n: number, when: Date) => {
      const errors = await Promise.all(Array.from({ length: n }, () => fail(when)));
      for (const error of errors) expect(error).toBeInstanceOf(SignInFailedError);
    };

    // A failure, then the right password: the count starts again, so four more failures are
    // ordinary failures (without the reset the fourth would be the fifth in a row).
    expect(await fail(at(0))).toBeInstanceOf(SignInFailedError);
    expect((await checkPassword(ctxAt(at(0)), email, PASSWORD)).id).toBe(id);
    await failTimes(4, at(SECOND));
    expect(auditRows("auth.locked_out", id)).toHaveLength(0);

    // The fifth in a row locks the account.
    const first = await fail(at(2 * SECOND));
    expect(first).toBeInstanceOf(RateLimitedError);
    const firstWait = (first as RateLimitedError).retryAfterSeconds;
    expect(firstWait).toBe(60);
    const lockouts = auditRows("auth.locked_out", id);
    expect(lockouts).toHaveLength(1);
    expect(JSON.parse(lockouts[0]!.details!)).toEqual({ seconds: 60 });

    // Locked means locked: the right password is refused too, from any address.
    const locked = await rejected(checkPassword(ctxAt(at(32 * SECOND)), email, PASSWORD));
    expect(locked).toBeInstanceOf(RateLimitedError);
    expect((locked as RateLimitedError).retryAfterSeconds).toBe(30);

    // After the lockout, five more failures lock it again, for longer.
    const later = 2 * SECOND + firstWait * SECOND;
    await failTimes(4, at(later));
    const second = await fail(at(later));
    expect(second).toBeInstanceOf(RateLimitedError);
    expect((second as RateLimitedError).retryAfterSeconds).toBeGreaterThan(firstWait);
    expect(auditRows("auth.locked_out", id)).toHaveLength(2);

    // While locked, the password can't be tried through "change password" either (a stolen
    // session must not become an unlimited password oracle).
    const change = await rejected(
      changePassword(ctxAt(at(later), { type: "user", id }), id, {
        current: PASSWORD,
        password: NEW_PASSWORD,
        keepSessionToken: null,
      }),
    );
    expect(change).toBeInstanceOf(RateLimitedError);
    expect(getUser(id).passwordHash).toBe(people.locked.passwordHash);
  });

  it("resetPassword: the link survives a weak password, expires after 1 hour, works once and ends every session", async () => {
    const person = people.reset;
    await requestPasswordReset(ctxAt(at(0)), person.email);
    const [mail] = await mailTo(person.email);
    expect(mail!.subject).toBe("Reset your Pleisys Engage password");
    const token = linkToken(mail, "/reset-password");

    // A weak password is refused without spending the link.
    const weak = await rejected(resetPassword(ctxAt(at(MINUTE)), token, "password1234"));
    expect(weak).toBeInstanceOf(ValidationError);
    expect((weak as ValidationError).fieldErrors.password).toBeDefined();
    expect(isResetLinkValid(token, at(MINUTE))).toBe(true);

    // One hour after it was sent, it no longer works.
    expect(isResetLinkValid(token, at(HOUR))).toBe(false);
    expect(await resetPassword(ctxAt(at(HOUR)), token, NEW_PASSWORD)).toBeNull();
    expect(getUser(person.id).passwordHash).toBe(person.passwordHash);

    // Before then it does, and every session of the account ends (not other people's).
    const when = at(HOUR - MINUTE);
    const laptop = createSession(ctxAt(when), person.id);
    const phone = createSession(ctxAt(when), person.id);
    const someoneElse = createSession(ctxAt(when), newcomer.id);
    expect(await resetPassword(ctxAt(when), token, NEW_PASSWORD)).toEqual({ userId: person.id });
    expect(findSession(laptop.token, when)).toBeNull();
    expect(findSession(phone.token, when)).toBeNull();
    expect(listSessions(person.id)).toHaveLength(0);
    expect(findSession(someoneElse.token, when)).not.toBeNull();
    expect(getUser(person.id).passwordChangedAt).toEqual(when);

    // Single use.
    expect(isResetLinkValid(token, when)).toBe(false);
    expect(await resetPassword(ctxAt(when), token, "another good passphrase 5")).toBeNull();
    expect((await checkPassword(ctxAt(when), person.email, NEW_PASSWORD)).id).toBe(person.id);
  });

  it("changePassword needs the current password, then keeps only the given session", async () => {
    const person = people.change;
    const userCtx = (when: Date) => ctxAt(when, { type: "user", id: person.id });
    const when = at(2 * HOUR);
    const keep = createSession(ctxAt(when), person.id);
    const laptop = createSession(ctxAt(when), person.id);
    const phone = createSession(ctxAt(when), person.id);

    const error = await rejected(
      changePassword(userCtx(when), person.id, {
        current: "not my current password",
        password: NEW_PASSWORD,
        keepSessionToken: keep.token,
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.current).toBeDefined();
    expect(getUser(person.id).passwordHash).toBe(person.passwordHash);
    expect(listSessions(person.id)).toHaveLength(3);

    await changePassword(userCtx(when), person.id, {
      current: PASSWORD,
      password: NEW_PASSWORD,
      keepSessionToken: keep.token,
    });
    expect(findSession(keep.token, when)?.user.id).toBe(person.id);
    expect(findSession(laptop.token, when)).toBeNull();
    expect(findSession(phone.token, when)).toBeNull();
    expect(listSessions(person.id).map((s) => s.idHash)).toEqual([keep.session.idHash]);

    const updated = getUser(person.id);
    expect(updated.passwordChangedAt).toEqual(when);
    expect(await verifyPassword(NEW_PASSWORD, updated.passwordHash!)).toBe(true);
    expect(auditRows("auth.password_changed", person.id)).toHaveLength(1);
  });

  it("requestEmailChange changes the address only once the link is followed; a taken address gets nothing", async () => {
    const person = people.mover;
    const userCtx = (when: Date) => ctxAt(when, { type: "user", id: person.id });
    const newEmail = "mover.new@accounts.test";

    await requestEmailChange(userCtx(at(0)), person.id, {
      email: " Mover.New@Accounts.test ",
      password: PASSWORD,
    });
    expect(getUser(person.id).email).toBe(person.email);
    expect(findUserByEmail(newEmail)).toBeUndefined();
    const [mail] = await mailTo(newEmail);
    expect(mail!.subject).toBe("Confirm your new email address for Pleisys Engage");
    const token = linkToken(mail, "/account/confirm-email");

    expect(confirmEmailChange(ctxAt(at(MINUTE)), token)).toEqual({ userId: person.id });
    const moved = getUser(person.id);
    expect(moved.email).toBe(newEmail);
    expect(moved.emailVerifiedAt).toEqual(at(MINUTE));
    expect(findUserByEmail(person.email)).toBeUndefined();
    expect(confirmEmailChange(ctxAt(at(MINUTE)), token)).toBeNull();

    // An address that belongs to someone else: no mail to it and nothing to confirm.
    const taken = people.locked.email;
    await requestEmailChange(userCtx(at(HOUR)), person.id, { email: taken, password: PASSWORD });
    expect(await mailTo(taken)).toHaveLength(0);
    expect(getUser(person.id).email).toBe(newEmail);
    const pending = getControlDb()
      .select()
      .from(authTokens)
      .where(and(eq(authTokens.userId, person.id), eq(authTokens.email, taken)))
      .all();
    expect(pending).toHaveLength(0);
  });
});
