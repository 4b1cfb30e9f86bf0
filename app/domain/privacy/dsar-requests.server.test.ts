import { and, eq } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, dsarRequests, dsarTasks, workspaces } from "~/db/schema/control";
import { listFileMailbox, readFileMailboxMessage } from "~/emails/transport.server";
import { decryptSecret } from "~/lib/crypto/vault.server";
import { reloadEnv } from "~/lib/env.server";
import { NotFoundError, RateLimitedError, ValidationError } from "~/lib/errors";
import { createSmsFake, type SmsFake } from "../../../tests/fakes/sms";
import { createUserByOperator } from "../admin/admin.server";
import type { SystemContext } from "../context";
import { saveIntegration } from "../delivery/integrations.server";
import { createWorkspace, type Workspace } from "../workspaces/workspaces.server";
import {
  CODE_MAX_ATTEMPTS,
  describeCodeRequest,
  expireUnverifiedRequests,
  logRequestByOperator,
  NO_DATA_OUTCOME,
  readCodeToken,
  requestStatus,
  statusToken,
  submitRequest,
  verifyCode,
  verifyRequest,
  type SubmitInput,
} from "./dsar-requests.server";
import { indexSubjects, subjectHash } from "./subject-index.server";
import { sendMailToFiles } from "../../../tests/support/mailbox";

sendMailToFiles();

const T0 = new Date("2030-03-01T09:00:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let ipCounter = 0;
/** A requester at a fresh address (the per-IP limit is tested on its own), at `at`. */
function ctxAt(at: Date | (() => Date) = T0, ip?: string): SystemContext {
  ipCounter += 1;
  return {
    actor: { type: "system", id: "dsar-portal" },
    now: typeof at === "function" ? at : () => at,
    request: { ip: ip ?? `203.0.113.${ipCounter % 250}`, userAgent: "vitest" },
  };
}

const unique = () => randomBytes(4).toString("hex");

async function newestMailTo(to: string): Promise<{ subject: string; text: string }> {
  const { items } = await listFileMailbox({ limit: 500, offset: 0 });
  const summary = items.find((m) => m.to.toLowerCase() === to.toLowerCase());
  if (!summary) throw new Error(`no mail to ${to}`);
  const message = (await readFileMailboxMessage(summary.id))!;
  return { subject: message.subject, text: message.text ?? "" };
}

async function linkTokenFor(email: string): Promise<string> {
  const { text } = await newestMailTo(email);
  const token = /\/dsar\/verify\/([A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!token) throw new Error(`no verification link in the mail to ${email}`);
  return token;
}

/** The platform's SMS account and a workspace's, both at one fake Twilio-compatible API. */
const platformAccount = { sid: "AC" + "e7".repeat(16), token: "platform-sms-token" };
const account = { sid: "AC" + "d5".repeat(16), token: "dsar-sms-token" };
let sms: SmsFake;

const PLATFORM_SMS = {
  PLATFORM_SMS_ACCOUNT_SID: platformAccount.sid,
  PLATFORM_SMS_AUTH_TOKEN: platformAccount.token,
  PLATFORM_SMS_FROM: "+15005550001",
};

/** Runs `fn` as a platform with no SMS account of its own. */
async function withoutPlatformSms<T>(fn: () => Promise<T>): Promise<T> {
  for (const name of Object.keys(PLATFORM_SMS)) delete process.env[name];
  reloadEnv();
  try {
    return await fn();
  } finally {
    Object.assign(process.env, PLATFORM_SMS);
    reloadEnv();
  }
}

async function smsCodeFor(e164: string): Promise<string> {
  const texts = sms.sent.filter((m) => m.to === e164);
  const code = /code is (\d{6})/.exec(texts[texts.length - 1]?.body ?? "")?.[1];
  if (!code) throw new Error(`no code in the text to ${e164}`);
  return code;
}

function thrownBy(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: Error) => error,
  );
}

function tasksOf(requestId: string) {
  return getControlDb().select().from(dsarTasks).where(eq(dsarTasks.requestId, requestId)).all();
}

function requestRow(id: string) {
  return getControlDb().select().from(dsarRequests).where(eq(dsarRequests.id, id)).get()!;
}

const platform = (input: Omit<SubmitInput, "portal">): SubmitInput => ({
  portal: { kind: "platform" },
  ...input,
});

let owner: { id: string };
let wsA: Workspace;
let wsB: Workspace;
let wsC: Workspace;

function newWorkspace(name: string): Workspace {
  const slug = `dsar-${name.toLowerCase().replace(/\W+/g, "-")}-${unique()}`;
  return createWorkspace(ctxAt(new Date()), owner.id, {
    slug,
    name,
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });
}

/** Puts a person (by email and/or phone) into workspaces' subject index, as contact writes do. */
function holds(ws: Workspace[], person: { email?: string; phone?: string }) {
  for (const w of ws) {
    const hashes = [];
    if (person.email) hashes.push(subjectHash("email", person.email));
    if (person.phone) hashes.push(subjectHash("phone", person.phone));
    indexSubjects(w.id, hashes);
  }
}

beforeAll(async () => {
  sms = createSmsFake({ accounts: [platformAccount, account] });
  await sms.start();
  process.env.SMS_API_BASE_URL = sms.url;
  process.env.PROVIDER_TIMEOUT_MS = "2000";
  Object.assign(process.env, PLATFORM_SMS);
  reloadEnv();
  owner = await createUserByOperator(ctxAt(new Date()), {
    email: `owner-${unique()}@example.com`,
    name: "Owner",
    password: `harbour violet candle ${unique()}`,
  });
  wsA = newWorkspace("Alpha Shop");
  wsB = newWorkspace("Beta Clinic");
  wsC = newWorkspace("Gamma Books");
});

describe("submitting: an unverified requester learns nothing", () => {
  it("answers and works the same for a person we hold and one we do not, in similar time", async () => {
    const rounds = 6;
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const k = `known-${unique()}@example.com`;
      holds([wsA, wsB], { email: k });
      known.push(k);
      unknown.push(`nobody-${unique()}@example.com`);
    }
    const timings = { known: [] as number[], unknown: [] as number[] };
    const answers = { known: [] as unknown[], unknown: [] as unknown[] };
    // Warm up both paths once, then alternate so drift hits both equally.
    for (let i = 0; i < rounds; i++) {
      for (const kind of ["known", "unknown"] as const) {
        const email = (kind === "known" ? known : unknown)[i]!;
        const started = performance.now();
        const result = await submitRequest(ctxAt(), platform({ type: "access", email }));
        timings[kind].push(performance.now() - started);
        answers[kind].push({ ...result, requestId: typeof result.requestId });
      }
    }
    expect(answers.known).toEqual(answers.unknown);
    expect(answers.known[0]).toEqual({
      requestId: "string",
      sentLink: true,
      sentCode: false,
      codeToken: null,
    });
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [fast, slow] = [median(timings.known), median(timings.unknown)].sort((a, b) => a - b);
    expect(slow!).toBeLessThanOrEqual(3 * fast! + 50);

    // Both were stored the same way and both got the same verification mail, link aside.
    const knownMail = await newestMailTo(known[0]!);
    const unknownMail = await newestMailTo(unknown[0]!);
    expect(knownMail.subject).toBe(unknownMail.subject);
    const strip = (t: string) =>
      t
        .replace(/\/dsar\/verify\/[A-Za-z0-9_-]+/g, "/dsar/verify/X")
        .replace(/unsubscribe\?token=\S+/g, "unsubscribe?token=X");
    expect(strip(knownMail.text)).toBe(strip(unknownMail.text));
    expect(knownMail.text).not.toMatch(/Alpha|Beta|hold data about you\./);
  });

  it("stores identifiers encrypted with keyed hashes, due in 30 days, and audits no identifier", async () => {
    const email = `Stored-${unique()}@Example.com`;
    const { requestId } = await submitRequest(
      ctxAt(),
      platform({ type: "correction", email, phone: "+91 98765 43210", details: "My name is Asha" }),
    );
    const row = requestRow(requestId);
    expect(row.status).toBe("unverified");
    expect(row.source).toBe("portal");
    expect(row.dueAt.getTime() - row.receivedAt.getTime()).toBe(30 * DAY);
    expect(row.emailEnc).not.toContain("example");
    expect(decryptSecret(row.emailEnc!, `dsar_requests.email_enc:${requestId}`)).toBe(
      email.toLowerCase(),
    );
    expect(decryptSecret(row.phoneEnc!, `dsar_requests.phone_enc:${requestId}`)).toBe(
      "+919876543210",
    );
    expect(decryptSecret(row.detailsEnc!, `dsar_requests.details_enc:${requestId}`)).toBe(
      "My name is Asha",
    );
    expect(row.emailHash).toBe(subjectHash("email", email.toLowerCase()));
    expect(row.phoneHash).toBe(subjectHash("phone", "+919876543210"));
    expect(row.verifyTokenHash).toMatch(/^[0-9a-f]{64}$/);
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "dsar.submitted"), eq(auditLog.targetId, requestId)))
      .get()!;
    expect(audit.details).not.toMatch(/stored-|example|98765/i);
    expect(JSON.parse(audit.details!)).toMatchObject({ type: "correction" });
  });

  it("refuses bad input with field messages and stores nothing", async () => {
    const before = getControlDb().select().from(dsarRequests).all().length;
    const none = await thrownBy(submitRequest(ctxAt(), platform({ type: "access" })));
    expect(none).toBeInstanceOf(ValidationError);
    expect((none as ValidationError).fieldErrors.email?.[0]).toMatch(/email address or your phone/);
    const local = await thrownBy(
      submitRequest(ctxAt(), platform({ type: "access", phone: "98765 43210" })),
    );
    expect((local as ValidationError).fieldErrors.phone?.[0]).toMatch(/country code/);
    const badEmail = await thrownBy(
      submitRequest(ctxAt(), platform({ type: "access", email: "not-an-address" })),
    );
    expect((badEmail as ValidationError).fieldErrors.email).toBeDefined();
    const correction = await thrownBy(
      submitRequest(ctxAt(), platform({ type: "correction", email: "a@example.com" })),
    );
    expect((correction as ValidationError).fieldErrors.details?.[0]).toMatch(/what is wrong/);
    const scope = await thrownBy(
      submitRequest(
        ctxAt(),
        platform({
          type: "opt_out",
          email: "a@example.com",
          optOutScope: "one",
          optOutBusiness: "no-such-shop",
        }),
      ),
    );
    expect((scope as ValidationError).fieldErrors.optOutBusiness).toBeDefined();
    expect(getControlDb().select().from(dsarRequests).all().length).toBe(before);
  });

  it("reads a local phone number with the portal workspace's country, or the chosen one", async () => {
    const viaWorkspace = await submitRequest(ctxAt(), {
      portal: { kind: "workspace", slug: wsA.slug },
      type: "access",
      phone: "98111 22233",
    });
    expect(requestRow(viaWorkspace.requestId).phoneHash).toBe(
      subjectHash("phone", "+919811122233"),
    );
    const chosen = await submitRequest(
      ctxAt(),
      platform({ type: "access", phone: "020 7946 0018", phoneCountry: "GB" }),
    );
    expect(requestRow(chosen.requestId).phoneHash).toBe(subjectHash("phone", "+442079460018"));
  });

  it("is a 404 for an unknown or deleted workspace portal", async () => {
    const unknown = await thrownBy(
      submitRequest(ctxAt(), {
        portal: { kind: "workspace", slug: "no-such-workspace" },
        type: "access",
        email: "a@example.com",
      }),
    );
    expect(unknown).toBeInstanceOf(NotFoundError);
    const gone = newWorkspace("Deleted Co");
    getControlDb()
      .update(workspaces)
      .set({ status: "deleted", deletedAt: T0 })
      .where(eq(workspaces.id, gone.id))
      .run();
    const deleted = await thrownBy(
      submitRequest(ctxAt(), {
        portal: { kind: "workspace", slug: gone.slug },
        type: "access",
        email: "a@example.com",
      }),
    );
    expect(deleted).toBeInstanceOf(NotFoundError);
  });

  it("limits submissions per identifier and per IP address", async () => {
    const email = `limited-${unique()}@example.com`;
    for (let i = 0; i < 3; i++) {
      await submitRequest(ctxAt(), platform({ type: "access", email }));
    }
    const perSubject = await thrownBy(submitRequest(ctxAt(), platform({ type: "access", email })));
    expect(perSubject).toBeInstanceOf(RateLimitedError);

    const ip = "198.51.100.77";
    for (let i = 0; i < 10; i++) {
      await submitRequest(
        ctxAt(T0, ip),
        platform({ type: "access", email: `ip-${unique()}@example.com` }),
      );
    }
    const perIp = await thrownBy(
      submitRequest(
        ctxAt(T0, ip),
        platform({ type: "access", email: `x-${unique()}@example.com` }),
      ),
    );
    expect(perIp).toBeInstanceOf(RateLimitedError);
  });
});

describe("verifying", () => {
  it("accepts a link once, and not after 24 hours", async () => {
    const email = `link-${unique()}@example.com`;
    const { requestId } = await submitRequest(ctxAt(), platform({ type: "access", email }));
    const token = await linkTokenFor(email);

    const late = await thrownBy(verifyRequest(ctxAt(new Date(T0.getTime() + 25 * HOUR)), token));
    expect(late).toBeInstanceOf(ValidationError);
    expect(late.message).toMatch(/expired or was already used/);
    expect(requestRow(requestId).status).toBe("unverified");

    const ok = await verifyRequest(ctxAt(new Date(T0.getTime() + 23 * HOUR)), token);
    expect(ok.requestId).toBe(requestId);
    expect(requestRow(requestId).status).not.toBe("unverified");
    expect(requestRow(requestId).verifyTokenHash).toBeNull();

    const again = await thrownBy(verifyRequest(ctxAt(), token));
    expect(again.message).toMatch(/expired or was already used/);
    expect(await thrownBy(verifyRequest(ctxAt(), "garbage"))).toBeInstanceOf(ValidationError);
  });

  it("accepts a texted code within 10 minutes, at most 5 tries, once", async () => {
    const phone = `+9198${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
    const submitted = await submitRequest(ctxAt(), platform({ type: "erasure", phone }));
    expect(submitted.sentCode).toBe(true);
    expect(readCodeToken(submitted.codeToken!)).toBe(submitted.requestId);
    const code = await smsCodeFor(phone);
    const wrong = code === "000000" ? "111111" : "000000";

    for (let i = 1; i < CODE_MAX_ATTEMPTS; i++) {
      const error = await thrownBy(verifyCode(ctxAt(), submitted.requestId, wrong));
      expect(error.message).toMatch(`${CODE_MAX_ATTEMPTS - i} more`);
    }
    const last = await thrownBy(verifyCode(ctxAt(), submitted.requestId, wrong));
    expect(last.message).toMatch(/too many times/);
    // The right code no longer works either: the code is void.
    const voided = await thrownBy(verifyCode(ctxAt(), submitted.requestId, code));
    expect(voided.message).toMatch(/can no longer be used/);
    expect(requestRow(submitted.requestId).status).toBe("unverified");

    const second = await submitRequest(ctxAt(), platform({ type: "erasure", phone }));
    const code2 = await smsCodeFor(phone);
    const tooLate = await thrownBy(
      verifyCode(ctxAt(new Date(T0.getTime() + 11 * 60_000)), second.requestId, code2),
    );
    expect(tooLate.message).toMatch(/expired/);
    expect(describeCodeRequest(second.codeToken!, new Date(T0.getTime() + 11 * 60_000))).toEqual({
      requestId: second.requestId,
      usable: false,
    });

    const third = await submitRequest(ctxAt(), platform({ type: "erasure", phone }));
    const code3 = await smsCodeFor(phone);
    const verified = await verifyCode(
      ctxAt(new Date(T0.getTime() + 9 * 60_000)),
      third.requestId,
      code3.slice(0, 3) + " " + code3.slice(3),
    );
    expect(verified.requestId).toBe(third.requestId);
    const reused = await thrownBy(verifyCode(ctxAt(), third.requestId, code3));
    expect(reused).toBeInstanceOf(ValidationError);
  });
});

afterAll(async () => {
  await sms?.stop();
});

describe("a code through the portal's SMS route", () => {
  it("texts the code through the integration on its portal, not the platform's account nor the sandbox", async () => {
    const shop = newWorkspace("Texting Shop");
    saveIntegration(ctxAt(new Date()), shop.id, "sms", {
      accountSid: account.sid,
      authToken: account.token,
      from: "+15005550006",
    });
    const phone = "+919800011122";
    const { requestId, codeToken } = await submitRequest(ctxAt(), {
      portal: { kind: "workspace", slug: shop.slug },
      type: "access",
      phone: "98000 11122",
    });
    expect(codeToken).not.toBeNull();
    const sent = sms.sent.filter((m) => m.to === phone);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.accountSid).toBe(account.sid);
    expect(sent[0]!.body).toMatch(/^Texting Shop: your privacy request code is \d{6}\./);
    const { items } = await listFileMailbox({ limit: 500, offset: 0 });
    expect(items.some((m) => m.to === "sms-919800011122@sandbox.invalid")).toBe(false);
    const code = /code is (\d{6})/.exec(sent[0]!.body)![1]!;
    expect((await verifyCode(ctxAt(), requestId, code)).noData).toBe(true);
  });

  it("texts /dsar codes, and those of portals without an integration, from the platform's account", async () => {
    for (const portal of [
      { kind: "platform" } as const,
      { kind: "workspace", slug: wsA.slug } as const,
    ]) {
      const phone = `+9198${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
      const { requestId, codeToken } = await submitRequest(ctxAt(), {
        portal,
        type: "access",
        phone,
      });
      expect(codeToken).not.toBeNull();
      const sent = sms.sent.filter((m) => m.to === phone);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.accountSid).toBe(platformAccount.sid);
      expect(sent[0]!.params.From).toBe("+15005550001");
      const { items } = await listFileMailbox({ limit: 500, offset: 0 });
      expect(items.some((m) => m.to === `sms-${phone.slice(1)}@sandbox.invalid`)).toBe(false);
      expect((await verifyCode(ctxAt(), requestId, await smsCodeFor(phone))).noData).toBe(true);
    }
  });

  it("without any SMS route refuses a phone-only request, storing nothing; with an email, sends only the link", async () => {
    await withoutPlatformSms(async () => {
      const before = getControlDb().select().from(dsarRequests).all().length;
      const phone = "+919822233344";
      for (const portal of [
        { kind: "platform" } as const,
        { kind: "workspace", slug: wsB.slug } as const,
      ]) {
        const error = await thrownBy(submitRequest(ctxAt(), { portal, type: "erasure", phone }));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).status).toBe(400);
        expect(error.message).toContain("privacy@pleisys.com");
        expect((error as ValidationError).fieldErrors.phone).toBeDefined();
      }
      expect(getControlDb().select().from(dsarRequests).all()).toHaveLength(before);
      expect(sms.sent.filter((m) => m.to === phone)).toHaveLength(0);

      const email = `both-${unique()}@example.com`;
      const both = await submitRequest(ctxAt(), platform({ type: "access", email, phone }));
      expect(both).toMatchObject({ sentLink: true, sentCode: false, codeToken: null });
      await verifyRequest(ctxAt(), await linkTokenFor(email));
      expect(requestStatus(statusToken(both.requestId))).toMatchObject({
        email: "used",
        phone: "left_out",
      });
    });
  });
});

describe("routing after verification", () => {
  it("creates a task for each of the 2 workspaces holding the subject and one for their account", async () => {
    const user = await createUserByOperator(ctxAt(new Date()), {
      email: `subject-${unique()}@example.com`,
      name: "Subject",
      password: `granite willow pepper ${unique()}`,
    });
    holds([wsA, wsB], { email: user.email });
    getControlDb()
      .update(workspaces)
      .set({ dsarAutoApprove: true })
      .where(eq(workspaces.id, wsB.id))
      .run();
    try {
      const { requestId } = await submitRequest(
        ctxAt(),
        platform({ type: "export", email: user.email }),
      );
      const statusBefore = requestStatus(statusToken(requestId));
      expect(statusBefore.verified).toBe(false);
      expect(statusBefore.holders).toEqual([]);

      const verifiedAt = new Date(T0.getTime() + HOUR);
      const result = await verifyRequest(ctxAt(verifiedAt), await linkTokenFor(user.email));
      expect(result).toMatchObject({ tasks: 3, noData: false });
      const tasks = tasksOf(requestId);
      const byHolder = Object.fromEntries(
        tasks.map((t) => [t.workspaceId ?? `user:${t.userId}`, t]),
      );
      expect(Object.keys(byHolder).sort()).toEqual([wsA.id, wsB.id, `user:${user.id}`].sort());
      expect(byHolder[wsA.id]).toMatchObject({ status: "pending", decidedBy: null });
      expect(byHolder[wsB.id]).toMatchObject({ status: "approved", decidedBy: "auto" });
      expect(byHolder[wsB.id]!.decidedAt).toEqual(verifiedAt);
      expect(byHolder[`user:${user.id}`]).toMatchObject({ status: "pending" });
      const row = requestRow(requestId);
      expect(row.status).toBe("open");
      for (const task of tasks) expect(task.dueAt).toEqual(row.dueAt);
      expect(tasks.some((t) => t.workspaceId === wsC.id)).toBe(false);

      const status = requestStatus(statusToken(requestId));
      expect(status.verified).toBe(true);
      expect(status.holders.map((h) => h.name).sort()).toEqual(
        ["Alpha Shop", "Beta Clinic", null].sort(),
      );
      const routed = getControlDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, "dsar.routed"), eq(auditLog.targetId, requestId)))
        .get()!;
      expect(JSON.parse(routed.details!)).toEqual({ workspaces: 2, accounts: 1, autoApproved: 1 });
      const confirmed = await newestMailTo(user.email);
      expect(confirmed.subject).toBe("Your privacy request to Pleisys Engage is confirmed");
      expect(confirmed.text).toContain(
        "You asked Pleisys Engage for a copy of your personal data.",
      );
      expect(confirmed.text).toMatch(/\/dsar\/status\//);
    } finally {
      getControlDb()
        .update(workspaces)
        .set({ dsarAutoApprove: false })
        .where(eq(workspaces.id, wsB.id))
        .run();
    }
  });

  it("from a workspace's portal reaches only that workspace, never the account", async () => {
    const user = await createUserByOperator(ctxAt(new Date()), {
      email: `portal-${unique()}@example.com`,
      name: "Portal Subject",
      password: `amber falcon ribbon ${unique()}`,
    });
    holds([wsA, wsB], { email: user.email });
    const { requestId } = await submitRequest(ctxAt(), {
      portal: { kind: "workspace", slug: wsB.slug },
      type: "erasure",
      email: user.email,
    });
    await verifyRequest(ctxAt(), await linkTokenFor(user.email));
    const tasks = tasksOf(requestId);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ workspaceId: wsB.id, userId: null, status: "pending" });
  });

  it("opt-out for one business reaches only that business", async () => {
    const email = `optout-${unique()}@example.com`;
    holds([wsA, wsB], { email });
    const { requestId } = await submitRequest(
      ctxAt(),
      platform({
        type: "opt_out",
        email,
        optOutScope: "one",
        optOutBusiness: `https://engage.test/dsar/${wsA.slug}`,
      }),
    );
    expect(requestRow(requestId).scope).toBe(JSON.stringify([wsA.id]));
    await verifyRequest(ctxAt(), await linkTokenFor(email));
    expect(tasksOf(requestId).map((t) => t.workspaceId)).toEqual([wsA.id]);
  });

  it("completes at once with 'We hold no data about you.' when nobody holds the subject", async () => {
    const email = `nodata-${unique()}@example.com`;
    holds([wsA], { email });
    // Through wsC's portal: wsA holds them, wsC does not.
    const { requestId } = await submitRequest(ctxAt(), {
      portal: { kind: "workspace", slug: wsC.slug },
      type: "access",
      email,
    });
    const result = await verifyRequest(ctxAt(), await linkTokenFor(email));
    expect(result).toMatchObject({ tasks: 0, noData: true });
    expect(tasksOf(requestId)).toEqual([]);
    const row = requestRow(requestId);
    expect(row).toMatchObject({ status: "completed", outcome: NO_DATA_OUTCOME });
    expect(row.completedAt).toEqual(T0);
    const notice = await newestMailTo(email);
    // The requester hears from the business they asked, about their own data.
    expect(notice.subject).toBe("Your privacy request to Gamma Books is complete");
    expect(notice.text).toContain(
      "You asked Gamma Books for access to the personal data held about you. Gamma Books holds no data about you.",
    );
    expect(notice.text).toContain("you made a privacy request to Gamma Books");
    const status = requestStatus(result.statusToken);
    expect(status).toMatchObject({ status: "completed", outcome: NO_DATA_OUTCOME, holders: [] });
    expect(status.portalName).toBe("Gamma Books");
  });

  it("refuses a forged or garbage status token", () => {
    expect(() => requestStatus("x")).toThrow(NotFoundError);
    expect(() => requestStatus("ZHNhcl94.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).toThrow(
      NotFoundError,
    );
  });
});

describe("requests logged by an operator", () => {
  const admin: SystemContext = {
    actor: { type: "admin", id: "usr_admin" },
    now: () => T0,
    request: { ip: "192.0.2.1" },
  };

  it("sends a verification link unless the operator verified the identity, with a note", async () => {
    const email = `mailed-${unique()}@example.com`;
    const received = new Date(T0.getTime() - 2 * DAY);
    const logged = await logRequestByOperator(admin, {
      type: "erasure",
      email,
      receivedAt: received,
    });
    expect(logged.verificationSent).toBe(true);
    const row = requestRow(logged.requestId);
    expect(row).toMatchObject({ source: "email", loggedBy: "usr_admin", status: "unverified" });
    expect(row.dueAt.getTime()).toBe(received.getTime() + 30 * DAY);
    await verifyRequest(ctxAt(), await linkTokenFor(email));
    expect(requestRow(logged.requestId).status).toBe("completed");

    const noNote = await thrownBy(
      logRequestByOperator(admin, { type: "access", email, identityVerified: true }),
    );
    expect((noNote as ValidationError).fieldErrors.verificationNote).toBeDefined();

    const trusted = `trusted-${unique()}@example.com`;
    holds([wsC], { email: trusted });
    const direct = await logRequestByOperator(admin, {
      type: "access",
      email: trusted,
      identityVerified: true,
      verificationNote: "Replied from the address on file, matched the order number",
    });
    expect(direct.verificationSent).toBe(false);
    expect(requestRow(direct.requestId).status).toBe("open");
    expect(tasksOf(direct.requestId).map((t) => t.workspaceId)).toEqual([wsC.id]);
    const verified = getControlDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "dsar.verified"), eq(auditLog.targetId, direct.requestId)))
      .get()!;
    expect(verified.actorType).toBe("admin");
    expect(JSON.parse(verified.details!)).toEqual({
      method: "operator",
      proven: ["email"],
      note: "Replied from the address on file, matched the order number",
    });

    const future = await thrownBy(
      logRequestByOperator(admin, {
        type: "access",
        email,
        receivedAt: new Date(T0.getTime() + DAY),
      }),
    );
    expect((future as ValidationError).fieldErrors.receivedAt).toBeDefined();
  });
});

describe("expiry", () => {
  it("expires requests left unverified for 7 days and nothing else", async () => {
    const start = new Date("2031-01-01T00:00:00.000Z");
    // Requests the other tests left unverified (in 2030) go first.
    expireUnverifiedRequests(start);
    const stale = await submitRequest(
      ctxAt(start),
      platform({ type: "access", email: `stale-${unique()}@example.com` }),
    );
    const fresh = await submitRequest(
      ctxAt(new Date(start.getTime() + 3 * DAY)),
      platform({ type: "access", email: `fresh-${unique()}@example.com` }),
    );
    const freshEmail = `done-${unique()}@example.com`;
    const done = await submitRequest(ctxAt(start), platform({ type: "access", email: freshEmail }));
    await verifyRequest(ctxAt(start), await linkTokenFor(freshEmail));

    expect(expireUnverifiedRequests(new Date(start.getTime() + 7 * DAY - 1))).toBe(0);
    expect(expireUnverifiedRequests(new Date(start.getTime() + 7 * DAY + 1))).toBe(1);
    expect(requestRow(stale.requestId)).toMatchObject({
      status: "expired",
      verifyTokenHash: null,
    });
    expect(requestRow(fresh.requestId).status).toBe("unverified");
    expect(requestRow(done.requestId).status).toBe("completed");
  });
});
