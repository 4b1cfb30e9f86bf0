import { and, eq } from "drizzle-orm";
import { authenticator } from "otplib";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, recoveryCodes, users } from "~/db/schema/control";
import { listFileMailbox, readFileMailboxMessage } from "~/emails/transport.server";
import { ConflictError, RateLimitedError, ValidationError } from "~/lib/errors";
import { createUserByOperator } from "../admin/admin.server";
import type { SystemContext } from "../context";
import {
  beginTotpEnrolment,
  confirmTotpEnrolment,
  disableTotp,
  pendingEnrolment,
  RECOVERY_CODE_COUNT,
  regenerateRecoveryCodes,
  remainingRecoveryCodes,
  verifySecondFactor,
} from "./mfa.server";
import { getUser, type User } from "./users.server";
import { thrown, rejected } from "../../../tests/support/errors";
import { sendMailToFiles } from "../../../tests/support/mailbox";

sendMailToFiles();

/** RFC 6238 steps of 30 s, as the module and every authenticator app use. */
const STEP_MS = 30_000;
const PASSWORD = "plum orbit saddle 42";

/** The test clock: 5 s into a time step, moved forward only. */
let now = new Date(Math.floor(Date.parse("2030-04-01T09:00:00Z") / STEP_MS) * STEP_MS + 5_000);
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};
const stepNow = () => Math.floor(now.getTime() / STEP_MS);
/** The code an authenticator app shows during `step`. */
const codeAt = (secret: string, step: number) =>
  authenticator.clone({ epoch: step * STEP_MS }).generate(secret);
/** A six-digit code that is not valid anywhere near now. */
function wrongCode(secret: string): string {
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((d) => codeAt(secret, stepNow() + d)));
  for (let n = 123_456; ; n = (n + 7_919) % 1_000_000) {
    const code = String(n).padStart(6, "0");
    if (!near.has(code)) return code;
  }
}

let user: User;
let ctx: SystemContext;

beforeAll(async () => {
  user = await createUserByOperator(
    { actor: { type: "cli" }, now: () => now },
    { name: "Meera Nair", email: "meera@mfa.test", password: PASSWORD },
  );
  ctx = { actor: { type: "user", id: user.id }, now: () => now, request: { ip: "203.0.113.30" } };
});

async function mailSubjectsTo(address: string): Promise<string[]> {
  const { items } = await listFileMailbox({ limit: 1_000, offset: 0 });
  const subjects: string[] = [];
  for (const item of items) {
    const message = await readFileMailboxMessage(item.id);
    if (message && message.to.replace(/^.*<|>.*$/g, "").trim() === address) {
      subjects.push(message.subject);
    }
  }
  return subjects;
}

const storedCodes = () =>
  getControlDb().select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).all();

const lockoutRows = () =>
  getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, "auth.locked_out"), eq(auditLog.targetId, user.id)))
    .all();

// The tests below walk one account through enrolment, use and removal, in order.
let secret: string;
let codes: string[];

describe("enrolment", () => {
  it("stores a new secret encrypted, not yet active", () => {
    const enrolment = beginTotpEnrolment(ctx, user.id);
    secret = enrolment.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolment.otpauthUrl).toContain(`secret=${secret}`);
    expect(enrolment.otpauthUrl).toContain("meera%40mfa.test");
    expect(enrolment.otpauthUrl).toContain("issuer=Pleisys%20Engage");

    const raw = getControlDb()
      .$client.prepare("SELECT totp_secret_enc, totp_enabled_at FROM users WHERE id = ?")
      .get(user.id) as { totp_secret_enc: string; totp_enabled_at: number | null };
    expect(raw.totp_secret_enc.startsWith("v1.")).toBe(true);
    expect(raw.totp_secret_enc).not.toContain(secret);
    expect(raw.totp_secret_enc).not.toContain(Buffer.from(secret).toString("base64"));
    expect(raw.totp_enabled_at).toBeNull();

    expect(pendingEnrolment(user.id)).toEqual(enrolment);
  });

  it("starting again replaces the pending secret", () => {
    const first = secret;
    secret = beginTotpEnrolment(ctx, user.id).secret;
    expect(secret).not.toBe(first);
    expect(pendingEnrolment(user.id)?.secret).toBe(secret);
  });

  it("a wrong code does not turn MFA on", async () => {
    const error = await rejected(confirmTotpEnrolment(ctx, user.id, wrongCode(secret)));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.code).toBeDefined();
    expect(getUser(user.id).totpEnabledAt).toBeNull();
    expect(storedCodes()).toHaveLength(0);
  });

  it("a current code turns MFA on and returns 10 distinct recovery codes, stored hashed", async () => {
    const result = await confirmTotpEnrolment(ctx, user.id, ` ${codeAt(secret, stepNow())} `);
    codes = result.recoveryCodes;
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/);

    const account = getUser(user.id);
    expect(account.totpEnabledAt).toEqual(now);
    expect(pendingEnrolment(user.id)).toBeNull();

    const stored = storedCodes();
    expect(stored).toHaveLength(10);
    const dump = JSON.stringify(stored);
    for (const code of codes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace(/-/g, ""));
    }
    for (const row of stored) {
      expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.usedAt).toBeNull();
    }
    expect(remainingRecoveryCodes(user.id)).toBe(10);
  });

  it("mails the account that MFA is on", async () => {
    expect(await mailSubjectsTo("meera@mfa.test")).toContain(
      "Two-factor authentication is on for your Pleisys Engage account",
    );
  });

  it("cannot be started or confirmed again while MFA is on", async () => {
    expect(thrown(() => beginTotpEnrolment(ctx, user.id))).toBeInstanceOf(ConflictError);
    const error = await rejected(confirmTotpEnrolment(ctx, user.id, codeAt(secret, stepNow())));
    expect(error).toBeInstanceOf(ConflictError);
  });
});

describe("verifySecondFactor", () => {
  it("refuses the code that confirmed the enrolment (replay)", () => {
    expect(
      thrown(() => verifySecondFactor(ctx, user.id, codeAt(secret, stepNow()))),
    ).toBeInstanceOf(ValidationError);
  });

  it("accepts a current code once and refuses the same code again", () => {
    advance(2 * STEP_MS);
    const code = codeAt(secret, stepNow());
    expect(verifySecondFactor(ctx, user.id, code)).toEqual({ method: "totp" });
    expect(getUser(user.id).totpLastStep).toBe(stepNow());
    expect(thrown(() => verifySecondFactor(ctx, user.id, code))).toBeInstanceOf(ValidationError);
    // Still refused a moment later, within the drift window.
    advance(STEP_MS);
    expect(thrown(() => verifySecondFactor(ctx, user.id, code))).toBeInstanceOf(ValidationError);
  });

  it('accepts a code typed the way apps show it ("123 456")', () => {
    advance(2 * STEP_MS);
    const code = codeAt(secret, stepNow());
    const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
    expect(verifySecondFactor(ctx, user.id, spaced)).toEqual({ method: "totp" });
  });

  it("accepts codes one step off (clock drift) and refuses two steps off", () => {
    advance(10 * STEP_MS);
    const current = stepNow();
    expect(
      thrown(() => verifySecondFactor(ctx, user.id, codeAt(secret, current - 2))),
    ).toBeInstanceOf(ValidationError);
    expect(verifySecondFactor(ctx, user.id, codeAt(secret, current - 1))).toEqual({
      method: "totp",
    });
    expect(
      thrown(() => verifySecondFactor(ctx, user.id, codeAt(secret, current + 2))),
    ).toBeInstanceOf(ValidationError);
    expect(verifySecondFactor(ctx, user.id, codeAt(secret, current + 1))).toEqual({
      method: "totp",
    });
  });

  it("refuses a code from a step older than the last one accepted, even if still current", () => {
    advance(10 * STEP_MS);
    const current = stepNow();
    expect(verifySecondFactor(ctx, user.id, codeAt(secret, current + 1))).toEqual({
      method: "totp",
    });
    expect(thrown(() => verifySecondFactor(ctx, user.id, codeAt(secret, current)))).toBeInstanceOf(
      ValidationError,
    );
    expect(
      thrown(() => verifySecondFactor(ctx, user.id, codeAt(secret, current - 1))),
    ).toBeInstanceOf(ValidationError);
    // The next step's code, once it is current, works.
    advance(2 * STEP_MS);
    expect(verifySecondFactor(ctx, user.id, codeAt(secret, stepNow()))).toEqual({
      method: "totp",
    });
  });

  it("accepts each recovery code once, however it is typed", () => {
    expect(verifySecondFactor(ctx, user.id, codes[0]!)).toEqual({ method: "recovery_code" });
    expect(remainingRecoveryCodes(user.id)).toBe(9);
    expect(thrown(() => verifySecondFactor(ctx, user.id, codes[0]!))).toBeInstanceOf(
      ValidationError,
    );

    const sloppy = ` ${codes[1]!.toLowerCase().replace(/-/g, " ")} `;
    expect(verifySecondFactor(ctx, user.id, sloppy)).toEqual({ method: "recovery_code" });
    expect(remainingRecoveryCodes(user.id)).toBe(8);

    expect(thrown(() => verifySecondFactor(ctx, user.id, "AAAA-BBBB-CCCC-DDDD"))).toBeInstanceOf(
      ValidationError,
    );
    expect(thrown(() => verifySecondFactor(ctx, user.id, ""))).toBeInstanceOf(ValidationError);
  });

  it("locks the account after 5 wrong codes, even against the right code, for a while", () => {
    advance(2 * STEP_MS);
    // A success first, so the failures above do not count.
    verifySecondFactor(ctx, user.id, codeAt(secret, stepNow()));
    advance(2 * STEP_MS);
    for (let i = 0; i < 4; i++) {
      expect(thrown(() => verifySecondFactor(ctx, user.id, wrongCode(secret)))).toBeInstanceOf(
        ValidationError,
      );
    }
    const locked = thrown(() => verifySecondFactor(ctx, user.id, wrongCode(secret)));
    expect(locked).toBeInstanceOf(RateLimitedError);
    expect((locked as RateLimitedError).retryAfterSeconds).toBe(60);
    expect(lockoutRows()).toHaveLength(1);
    expect(JSON.parse(lockoutRows()[0]!.details!)).toMatchObject({ factor: "totp", seconds: 60 });

    const right = codeAt(secret, stepNow());
    const refused = thrown(() => verifySecondFactor(ctx, user.id, right));
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(60);
    expect(thrown(() => verifySecondFactor(ctx, user.id, codes[2]!))).toBeInstanceOf(
      RateLimitedError,
    );
    expect(remainingRecoveryCodes(user.id)).toBe(8);

    advance(60_000);
    expect(verifySecondFactor(ctx, user.id, codeAt(secret, stepNow()))).toEqual({
      method: "totp",
    });
  });
});

describe("recovery codes", () => {
  it("regenerating needs the password and replaces every old code", async () => {
    const wrong = await rejected(
      regenerateRecoveryCodes(ctx, user.id, { password: "not my password at all" }),
    );
    expect(wrong).toBeInstanceOf(ValidationError);
    expect(remainingRecoveryCodes(user.id)).toBe(8);

    advance(2 * STEP_MS);
    const fresh = await regenerateRecoveryCodes(ctx, user.id, { code: codeAt(secret, stepNow()) });
    expect(fresh).toHaveLength(10);
    expect(remainingRecoveryCodes(user.id)).toBe(10);
    expect(thrown(() => verifySecondFactor(ctx, user.id, codes[3]!))).toBeInstanceOf(
      ValidationError,
    );
    codes = fresh;
    expect(verifySecondFactor(ctx, user.id, codes[0]!)).toEqual({ method: "recovery_code" });
  });
});

describe("disableTotp", () => {
  it("requires proof: without it, or with a wrong password, MFA stays on", async () => {
    expect(await rejected(disableTotp(ctx, user.id, {}))).toBeInstanceOf(ValidationError);
    const wrong = await rejected(disableTotp(ctx, user.id, { password: "not my password at all" }));
    expect(wrong).toBeInstanceOf(ValidationError);
    expect((wrong as ValidationError).fieldErrors.password).toBeDefined();
    const account = getUser(user.id);
    expect(account.totpEnabledAt).not.toBeNull();
    expect(account.totpSecretEnc).not.toBeNull();
    expect(remainingRecoveryCodes(user.id)).toBe(9);
  });

  it("with the password turns MFA off, forgets the secret and the codes, and mails the account", async () => {
    await disableTotp(ctx, user.id, { password: PASSWORD });
    const row = getControlDb().select().from(users).where(eq(users.id, user.id)).get()!;
    expect(row.totpEnabledAt).toBeNull();
    expect(row.totpSecretEnc).toBeNull();
    expect(row.totpLastStep).toBeNull();
    expect(storedCodes()).toHaveLength(0);
    expect(
      thrown(() => verifySecondFactor(ctx, user.id, codeAt(secret, stepNow()))),
    ).toBeInstanceOf(ConflictError);
    expect(await mailSubjectsTo("meera@mfa.test")).toEqual(
      expect.arrayContaining([
        "Two-factor authentication is on for your Pleisys Engage account",
        "Two-factor authentication was turned off for your Pleisys Engage account",
      ]),
    );
    expect(await rejected(disableTotp(ctx, user.id, { password: PASSWORD }))).toBeInstanceOf(
      ConflictError,
    );
  });

  it("can be turned on again with a new secret", async () => {
    const again = beginTotpEnrolment(ctx, user.id);
    expect(again.secret).not.toBe(secret);
    advance(2 * STEP_MS);
    const result = await confirmTotpEnrolment(ctx, user.id, codeAt(again.secret, stepNow()));
    expect(result.recoveryCodes).toHaveLength(10);
    expect(getUser(user.id).totpEnabledAt).not.toBeNull();
  });
});
