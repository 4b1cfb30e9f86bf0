import { daysMs, RETENTION } from "./retention-policy";
import { and, asc, count, desc, eq, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import { createHmac, randomInt } from "node:crypto";
import { getControlDb } from "~/db/control.server";
import {
  DSAR_TYPES,
  dsarRequests,
  dsarTasks,
  workspaces,
  type DsarStatus,
  type DsarTaskStatus,
  type DsarType,
} from "~/db/schema/control";
import { decryptSecret, encryptSecret } from "~/lib/crypto/vault.server";
import {
  DSAR_DETAILS_MAX,
  DSAR_REQUEST_PHRASES,
  DSAR_TYPE_LABELS as TYPE_LABELS,
  PHONE_ONLY_UNAVAILABLE,
} from "~/lib/dsar";
import { normaliseEmail } from "~/lib/email-address";
import { AppError, NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { getEnv } from "~/lib/env.server";
import { getSecrets } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";
import { normalisePhone } from "~/lib/phone";
import { readSignedToken, signToken } from "~/lib/signed-token.server";
import { newId, randomToken, safeEqual, sha256Hex } from "~/lib/tokens";
import { findUserByEmail } from "../accounts/users.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { sendTransactional } from "../mail/mail.server";
import { aadFor, encryptedColumns } from "../security/encrypted-columns.server";
import { consume, POLICIES } from "../security/rate-limit.server";
import { askedBusiness } from "./dsar-notify.server";
import { canTextRequesters, requesterSms } from "./dsar-sms.server";
import { subjectHash, workspacesHolding } from "./subject-index.server";

/**
 * Privacy requests from the public portals: submission, identity verification, routing to
 * the holders, the requester's status page, requests an operator logs from privacy@ mail, and expiry.
 *
 * Until the requester is verified they learn nothing: every submission does the same work
 * (normalise, hash, store, send a verification) and gets the same answer, whether or not anyone
 * holds data about them. The subject index is consulted only after verification.
 *
 * Only identifiers the requester proved are ever used: the link proves the email, the code the
 * phone. A request confirmed by one of two identifiers runs on that one alone; the other is
 * cleared at confirmation, so routing, fulfilment and notices cannot reach it (ADR 0014).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Policy §6: "We will respond within 30 days." */
export const RESPONSE_DAYS = 30;
export const LINK_TTL_HOURS = 24;
export const CODE_TTL_MINUTES = 10;
export const CODE_MAX_ATTEMPTS = 5;
export const DETAILS_MAX = DSAR_DETAILS_MAX;
export const NO_DATA_OUTCOME = "We hold no data about you.";

/** The wording the form shows, kept in one place (app/lib/dsar.ts) and checked against the table. */
export const DSAR_TYPE_LABELS: Record<DsarType, string> = TYPE_LABELS;

/** How the request reads in a sentence to the requester (wording kept in app/lib/dsar.ts). */
const DSAR_TYPE_PHRASES: Record<DsarType, string> = DSAR_REQUEST_PHRASES;

export function isDsarType(value: unknown): value is DsarType {
  return typeof value === "string" && (DSAR_TYPES as readonly string[]).includes(value);
}

// ---------------------------------------------------------------------------------------------
// Portals.

export type Portal = { kind: "platform" } | { kind: "workspace"; slug: string };

export interface PortalInfo {
  workspaceId: string | null;
  /** The business's name, or null for the platform. */
  name: string | null;
  slug: string | null;
  /** Reads phone numbers written without a country code; null on the platform portal. */
  country: string | null;
}

const PLATFORM_PORTAL: PortalInfo = { workspaceId: null, name: null, slug: null, country: null };

/** A workspace's portal: its slug is public. Unknown or deleted workspaces are NotFoundError. */
export function findPortal(portal: Portal): PortalInfo {
  if (portal.kind === "platform") return PLATFORM_PORTAL;
  const slug = portal.slug;
  const row =
    slug && slug.length <= 64
      ? getControlDb()
          .select({
            id: workspaces.id,
            name: workspaces.name,
            slug: workspaces.slug,
            country: workspaces.country,
          })
          .from(workspaces)
          .where(and(eq(workspaces.slug, slug), ne(workspaces.status, "deleted")))
          .get()
      : undefined;
  if (!row) throw new NotFoundError("Page");
  return { workspaceId: row.id, name: row.name, slug: row.slug, country: row.country };
}

// ---------------------------------------------------------------------------------------------
// Identifiers.

export interface Identifiers {
  email: string | null;
  /** E.164. */
  phone: string | null;
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Normalises the email and phone as contacts are normalised (so their hashes match the subject
 * index). Phones without a country code are read as `country` (the workspace's); without a
 * country (the platform portal) they must start with + and the country code.
 */
export function normaliseIdentifiers(
  input: { email?: string | null; phone?: string | null },
  country: string | null,
): Identifiers {
  const errors: FieldErrors = {};
  const rawEmail = input.email?.trim() ?? "";
  const rawPhone = input.phone?.trim() ?? "";
  let email: string | null = null;
  let phone: string | null = null;
  if (rawEmail) {
    const normalised = normaliseEmail(rawEmail);
    if (normalised.length > 254 || !EMAIL_SHAPE.test(normalised)) {
      errors.email = ["Enter a valid email address, like name@example.com."];
    } else {
      email = normalised;
    }
  }
  if (rawPhone) {
    if (!country && !rawPhone.startsWith("+")) {
      errors.phone = [
        "Write the number with its country code, like +91 98765 43210, or choose the country.",
      ];
    } else {
      const result = normalisePhone(rawPhone, country ?? "IN");
      if (result.ok) phone = result.e164;
      else errors.phone = [result.reason];
    }
  }
  if (!rawEmail && !rawPhone) {
    const message = "Enter your email address or your phone number (or both).";
    throw new ValidationError(message, { email: [message] });
  }
  if (Object.keys(errors).length > 0) {
    throw new ValidationError("Check the highlighted fields.", errors);
  }
  return { email, phone };
}

const encryptedAad = (column: "email_enc" | "phone_enc" | "details_enc", id: string) => {
  const entry = encryptedColumns.find((c) => c.aadPrefix === `dsar_requests.${column}`)!;
  return aadFor(entry, id);
};

function decryptColumn(
  column: "email_enc" | "phone_enc" | "details_enc",
  id: string,
  value: string | null,
): string | null {
  return value === null ? null : decryptSecret(value, encryptedAad(column, id));
}

// ---------------------------------------------------------------------------------------------
// Verification secrets.

/**
 * The phone code is kept as `<expiry ms>:<HMAC>` in verify_code_hash: the link and the code
 * expire at different times (24 h, 10 min) and the table has one expiry column, used by the
 * link. The HMAC is keyed, because a plain hash of six digits is reversed by trying them all.
 */
function codeMac(requestId: string, code: string): string {
  return createHmac("sha256", getSecrets().sessionSecret)
    .update(`engage:dsar-code:v1:${requestId}:${code}`)
    .digest("hex");
}

function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, "0");
}

interface IssuedVerification {
  tokenHash: string | null;
  token: string | null;
  linkExpiresAt: Date | null;
  codeHash: string | null;
  code: string | null;
}

/** `canText`: the portal has a way to text the code (else the phone cannot be proven here). */
function issueVerification(
  requestId: string,
  ids: Identifiers,
  now: Date,
  canText: boolean,
): IssuedVerification {
  const token = ids.email ? randomToken() : null;
  const code = ids.phone && canText ? newCode() : null;
  const codeExpires = now.getTime() + CODE_TTL_MINUTES * MINUTE;
  return {
    token,
    tokenHash: token ? sha256Hex(token) : null,
    linkExpiresAt: token ? new Date(now.getTime() + LINK_TTL_HOURS * HOUR) : null,
    code,
    codeHash: code ? `${codeExpires}:${codeMac(requestId, code)}` : null,
  };
}

export function verifyUrl(token: string): string {
  return `${getEnv().BASE_URL}/dsar/verify/${token}`;
}

/** The requester's status page: a signed link, no sign-in. */
export function statusToken(requestId: string): string {
  return signToken("dsar-status", requestId);
}

export function statusUrl(requestId: string): string {
  return `${getEnv().BASE_URL}/dsar/status/${statusToken(requestId)}`;
}

/** The code-entry page for one request (the id is signed so it cannot be guessed or swapped). */
export function codeToken(requestId: string): string {
  return signToken("dsar-code", requestId);
}

export function readCodeToken(token: string): string | null {
  return readSignedToken("dsar-code", token);
}

class DeliveryFailedError extends AppError {
  constructor() {
    super(
      "We could not send the verification message right now. Please try again in a few minutes.",
      503,
      "dsar_delivery_failed",
    );
  }
}

/** A text to the requester through the portal's SMS route (dsar-sms); none: an error. */
async function sendText(workspaceId: string | null, to: string, text: string): Promise<void> {
  const sms = requesterSms(workspaceId);
  if (!sms) throw new Error("no SMS route for this portal");
  await sms.send(to, text);
}

async function sendVerification(
  ctx: SystemContext,
  request: { id: string; type: DsarType },
  portal: PortalInfo,
  ids: Identifiers,
  issued: IssuedVerification,
): Promise<void> {
  if (ids.email && issued.token) {
    await sendTransactional(ctx, "dsar-verify", ids.email, {
      portalName: portal.name,
      what: DSAR_TYPE_PHRASES[request.type],
      url: verifyUrl(issued.token),
      expiresInHours: LINK_TTL_HOURS,
    });
  }
  if (ids.phone && issued.code) {
    const sender = portal.name ?? "Pleisys Engage";
    await sendText(
      portal.workspaceId,
      ids.phone,
      `${sender}: your privacy request code is ${issued.code}. It expires in ${CODE_TTL_MINUTES} minutes. If you did not ask for it, ignore this message.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Submitting.

export interface SubmitInput {
  portal: Portal;
  type: DsarType;
  email?: string | null;
  phone?: string | null;
  /** Platform portal: the country of a phone number written without its country code. */
  phoneCountry?: string | null;
  /** Correction: what to change; other types: anything the requester wants to add. */
  details?: string | null;
  /**
   * Opt-out on the platform portal: every business holding the requester ("all"), or the one
   * whose privacy page (slug or /dsar/<slug> link) is given. A workspace's portal: itself.
   */
  optOutScope?: "all" | "one" | null;
  optOutBusiness?: string | null;
}

export interface SubmitResult {
  requestId: string;
  sentLink: boolean;
  sentCode: boolean;
  /** The code-entry page's token, when a code was sent. */
  codeToken: string | null;
}

/** The slug in "acme", "/dsar/acme" or "https://engage.pleisys.com/dsar/acme". */
function slugFrom(input: string): string {
  const trimmed = input.trim();
  const match = /\/dsar\/([a-z0-9-]+)\/?(?:[?#].*)?$/i.exec(trimmed);
  return (match ? match[1]! : trimmed).toLowerCase();
}

function resolveScope(input: SubmitInput, portal: PortalInfo): string | null {
  if (input.type !== "opt_out") return null;
  if (portal.workspaceId) return JSON.stringify([portal.workspaceId]);
  if (input.optOutScope === "one") {
    const business = input.optOutBusiness?.trim() ?? "";
    const message = business
      ? "We could not find that business. Use the privacy link from its messages, like engage.pleisys.com/dsar/acme."
      : "Enter the business's privacy link or name from its messages.";
    if (!business) throw new ValidationError(message, { optOutBusiness: [message] });
    try {
      const target = findPortal({ kind: "workspace", slug: slugFrom(business) });
      return JSON.stringify([target.workspaceId]);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new ValidationError(message, { optOutBusiness: [message] });
      }
      throw error;
    }
  }
  return "all";
}

function cleanDetails(input: SubmitInput): string | null {
  const details = input.details?.trim() ?? "";
  if (details.length > DETAILS_MAX) {
    const message = `Use at most ${DETAILS_MAX} characters.`;
    throw new ValidationError(message, { details: [message] });
  }
  if (input.type === "correction" && !details) {
    const message = "Tell us what is wrong and what it should say.";
    throw new ValidationError(message, { details: [message] });
  }
  return details || null;
}

function rateKeys(ctx: SystemContext, hashes: string[]) {
  const keys: [string, (typeof POLICIES)["dsarIp"]][] = [];
  if (ctx.request?.ip) keys.push([`dsar-ip:${ctx.request.ip}`, POLICIES.dsarIp]);
  for (const hash of hashes) keys.push([`dsar-subject:${hash}`, POLICIES.dsarSubject]);
  return keys;
}

interface NewRequest {
  type: DsarType;
  portal: PortalInfo;
  ids: Identifiers;
  /** The portal can text a code to the phone. */
  canText: boolean;
  details: string | null;
  scope: string | null;
  source: "portal" | "email";
  loggedBy: string | null;
  receivedAt: Date;
}

/** Stores the request (identifiers encrypted, hashed) with its verification secrets. */
function insertRequest(request: NewRequest, now: Date) {
  const id = newId("dsar");
  const issued = issueVerification(id, request.ids, now, request.canText);
  const enc = (column: "email_enc" | "phone_enc" | "details_enc", value: string | null) =>
    value === null ? null : encryptSecret(value, encryptedAad(column, id));
  getControlDb()
    .insert(dsarRequests)
    .values({
      id,
      portalWorkspaceId: request.portal.workspaceId,
      type: request.type,
      emailEnc: enc("email_enc", request.ids.email),
      phoneEnc: enc("phone_enc", request.ids.phone),
      emailHash: request.ids.email ? subjectHash("email", request.ids.email) : null,
      phoneHash: request.ids.phone ? subjectHash("phone", request.ids.phone) : null,
      emailProven: request.ids.email ? false : null,
      phoneProven: request.ids.phone ? false : null,
      detailsEnc: enc("details_enc", request.details),
      scope: request.scope,
      source: request.source,
      loggedBy: request.loggedBy,
      status: "unverified",
      verifyTokenHash: issued.tokenHash,
      verifyCodeHash: issued.codeHash,
      verifyExpiresAt:
        issued.linkExpiresAt ??
        (issued.code ? new Date(now.getTime() + CODE_TTL_MINUTES * MINUTE) : null),
      verifyAttempts: 0,
      receivedAt: request.receivedAt,
      dueAt: new Date(request.receivedAt.getTime() + RESPONSE_DAYS * DAY),
    })
    .run();
  return { id, issued };
}

function identifierKinds(ids: Identifiers): string[] {
  return [ids.email ? "email" : null, ids.phone ? "phone" : null].filter(
    (kind): kind is string => kind !== null,
  );
}

/**
 * A request from a portal. Always stores it and always sends the verification (a link to the
 * email, a code to the phone), known subject or not: the answer and the work are the same.
 * ValidationError for bad input (and for a phone-only request where no code can be texted),
 * RateLimitedError past the per-IP or per-identifier limits, NotFoundError for an unknown
 * portal, a 503 when the verification could not be sent (then nothing is kept). With both
 * identifiers and no way to text, only the link goes out: the phone can then not be proven
 * and is left out when the request is confirmed.
 */
export async function submitRequest(ctx: SystemContext, input: SubmitInput): Promise<SubmitResult> {
  if (!isDsarType(input.type)) {
    throw new ValidationError("Choose what you would like us to do.", {
      type: ["Choose what you would like us to do."],
    });
  }
  const portal = findPortal(input.portal);
  const country = portal.country ?? (input.phoneCountry?.trim() || null);
  const ids = normaliseIdentifiers(input, country);
  const details = cleanDetails(input);
  const scope = resolveScope(input, portal);
  // Depends on the portal only, never on whether anyone holds the person.
  const canText = canTextRequesters(portal.workspaceId);
  if (ids.phone && !ids.email && !canText) {
    throw new ValidationError(PHONE_ONLY_UNAVAILABLE, { phone: [PHONE_ONLY_UNAVAILABLE] });
  }
  const hashes = [
    ids.email ? subjectHash("email", ids.email) : null,
    ids.phone ? subjectHash("phone", ids.phone) : null,
  ].filter((h): h is string => h !== null);
  const now = ctx.now();
  consume(rateKeys(ctx, hashes), now);

  const { id, issued } = insertRequest(
    {
      type: input.type,
      portal,
      ids,
      canText,
      details,
      scope,
      source: "portal",
      loggedBy: null,
      receivedAt: now,
    },
    now,
  );
  try {
    await sendVerification(ctx, { id, type: input.type }, portal, ids, issued);
  } catch (error) {
    // Nothing half-done: a request nobody can verify is not kept.
    getControlDb().delete(dsarRequests).where(eq(dsarRequests.id, id)).run();
    logger.error({ err: error, requestId: id }, "privacy request verification not sent");
    if (error instanceof ValidationError) throw error;
    throw new DeliveryFailedError();
  }
  recordAudit(ctx, {
    action: "dsar.submitted",
    target: { type: "dsar_request", id },
    details: {
      type: input.type,
      portalWorkspaceId: portal.workspaceId,
      identifiers: identifierKinds(ids),
    },
  });
  return {
    requestId: id,
    sentLink: issued.token !== null,
    sentCode: issued.code !== null,
    codeToken: issued.code ? codeToken(id) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Verifying and routing.

type RequestRow = typeof dsarRequests.$inferSelect;

export class InvalidVerificationError extends ValidationError {
  constructor(message: string, field?: string) {
    super(message, field ? { [field]: [message] } : {});
  }
}

const LINK_INVALID =
  "This confirmation link has expired or was already used. If you still want us to act, send the request again.";

export interface VerifyResult {
  requestId: string;
  statusToken: string;
  /** Holders the request went to (workspaces and the account). */
  tasks: number;
  /** Completed at once: nobody holds data about the requester. */
  noData: boolean;
}

/** Whether a link token names a request that can still be confirmed (the page's GET). */
export function isVerifyTokenUsable(token: string, now: Date): boolean {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return false;
  const row = getControlDb()
    .select({ status: dsarRequests.status, expires: dsarRequests.verifyExpiresAt })
    .from(dsarRequests)
    .where(eq(dsarRequests.verifyTokenHash, sha256Hex(token)))
    .get();
  return !!row && row.status === "unverified" && !!row.expires && row.expires > now;
}

/** Confirms a request by its emailed link: single use, within LINK_TTL_HOURS. */
export async function verifyRequest(ctx: SystemContext, token: string): Promise<VerifyResult> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw new InvalidVerificationError(LINK_INVALID);
  const now = ctx.now();
  const db = getControlDb();
  const row = db
    .select()
    .from(dsarRequests)
    .where(eq(dsarRequests.verifyTokenHash, sha256Hex(token)))
    .get();
  if (!row || row.status !== "unverified" || !row.verifyExpiresAt || row.verifyExpiresAt <= now) {
    throw new InvalidVerificationError(LINK_INVALID);
  }
  return confirm(ctx, row, "link");
}

/** The code-entry page: which request, and whether a code can still be entered. */
export function describeCodeRequest(
  token: string,
  now: Date,
): { requestId: string; usable: boolean } {
  const requestId = readCodeToken(token);
  const row = requestId
    ? getControlDb()
        .select({ status: dsarRequests.status, codeHash: dsarRequests.verifyCodeHash })
        .from(dsarRequests)
        .where(eq(dsarRequests.id, requestId))
        .get()
    : undefined;
  if (!requestId || !row) throw new NotFoundError("Page");
  const expiry = Number(row.codeHash?.split(":")[0] ?? 0);
  return { requestId, usable: row.status === "unverified" && expiry > now.getTime() };
}

/**
 * Confirms a request by the code texted to the phone: within CODE_TTL_MINUTES, at most
 * CODE_MAX_ATTEMPTS tries (then the code is void), single use.
 */
export async function verifyCode(
  ctx: SystemContext,
  requestId: string,
  code: string,
): Promise<VerifyResult> {
  const now = ctx.now();
  const db = getControlDb();
  const row = db.select().from(dsarRequests).where(eq(dsarRequests.id, requestId)).get();
  if (!row) throw new NotFoundError("Page");
  const [expiry, mac] = row.verifyCodeHash?.split(":") ?? [];
  const expired =
    "This code has expired or can no longer be used. Send the request again to get a new one.";
  if (row.status !== "unverified" || !mac || Number(expiry) <= now.getTime()) {
    throw new InvalidVerificationError(expired, "code");
  }
  const typed = code.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(typed)) {
    throw new InvalidVerificationError("Enter the 6-digit code from the text message.", "code");
  }
  if (!safeEqual(codeMac(row.id, typed), mac)) {
    // Counted atomically; the last allowed failure voids the code.
    const attempts = db.transaction(
      (tx) => {
        const current = tx
          .select({ attempts: dsarRequests.verifyAttempts })
          .from(dsarRequests)
          .where(eq(dsarRequests.id, row.id))
          .get();
        const next = (current?.attempts ?? 0) + 1;
        tx.update(dsarRequests)
          .set({
            verifyAttempts: next,
            ...(next >= CODE_MAX_ATTEMPTS ? { verifyCodeHash: null } : {}),
          })
          .where(eq(dsarRequests.id, row.id))
          .run();
        return next;
      },
      { behavior: "immediate" },
    );
    const left = CODE_MAX_ATTEMPTS - attempts;
    throw new InvalidVerificationError(
      left > 0
        ? `That code is not right. You can try ${left} more ${left === 1 ? "time" : "times"}.`
        : "That code is not right, and it has been tried too many times. Send the request again to get a new code.",
      "code",
    );
  }
  return confirm(ctx, row, "code");
}

interface RoutedTask {
  workspaceId: string | null;
  userId: string | null;
  autoApproved: boolean;
}

/**
 * Who holds the requester: the workspaces in the subject index, and their own account. `row`
 * carries only proven identifiers (see `provenOnly`).
 */
function holdersOf(row: RequestRow, email: string | null): RoutedTask[] {
  const hashes = [row.emailHash, row.phoneHash].filter((h): h is string => h !== null);
  let holderIds = workspacesHolding(hashes);
  if (row.portalWorkspaceId) holderIds = holderIds.filter((id) => id === row.portalWorkspaceId);
  if (row.scope && row.scope !== "all") {
    const scoped = new Set(JSON.parse(row.scope) as string[]);
    holderIds = holderIds.filter((id) => scoped.has(id));
  }
  const holders =
    holderIds.length === 0
      ? []
      : getControlDb()
          .select({ id: workspaces.id, autoApprove: workspaces.dsarAutoApprove })
          .from(workspaces)
          .where(and(inArray(workspaces.id, holderIds), ne(workspaces.status, "deleted")))
          .orderBy(asc(workspaces.id))
          .all();
  const tasks: RoutedTask[] = holders.map((w) => ({
    workspaceId: w.id,
    userId: null,
    autoApproved: w.autoApprove,
  }));
  // Account data: the platform is its controller, so only its own portal reaches it.
  const platformScope = !row.scope || row.scope === "all";
  if (!row.portalWorkspaceId && platformScope && email) {
    const user = findUserByEmail(email);
    if (user) tasks.push({ workspaceId: null, userId: user.id, autoApproved: false });
  }
  return tasks;
}

type VerifyMethod = "link" | "code" | "operator";

/**
 * The request as it runs after confirmation by `method`: the link proves the email, the code
 * the phone; an operator who checked the identity another way (with a note) vouches for what
 * they entered. An identifier not proven is cleared (value and hash), so nothing downstream
 * can use it; its `*Proven` stays false so the status page can say it was left out.
 */
function provenOnly(row: RequestRow, method: VerifyMethod): RequestRow {
  const email = row.emailEnc !== null && (method === "link" || method === "operator");
  const phone = row.phoneEnc !== null && (method === "code" || method === "operator");
  return {
    ...row,
    emailEnc: email ? row.emailEnc : null,
    emailHash: email ? row.emailHash : null,
    emailProven: row.emailEnc === null ? null : email,
    phoneEnc: phone ? row.phoneEnc : null,
    phoneHash: phone ? row.phoneHash : null,
    phoneProven: row.phoneEnc === null ? null : phone,
  };
}

async function confirm(
  ctx: SystemContext,
  unconfirmed: RequestRow,
  method: VerifyMethod,
  note?: string,
): Promise<VerifyResult> {
  const now = ctx.now();
  const row = provenOnly(unconfirmed, method);
  const email = decryptColumn("email_enc", row.id, row.emailEnc);
  const db = getControlDb();
  const routed = db.transaction(
    (tx) => {
      // Single use: only the first confirmation moves the request out of `unverified`.
      const changed = tx
        .update(dsarRequests)
        .set({
          status: "open",
          verifiedAt: now,
          verifyTokenHash: null,
          verifyCodeHash: null,
          verifyExpiresAt: null,
          emailEnc: row.emailEnc,
          emailHash: row.emailHash,
          emailProven: row.emailProven,
          phoneEnc: row.phoneEnc,
          phoneHash: row.phoneHash,
          phoneProven: row.phoneProven,
        })
        .where(and(eq(dsarRequests.id, row.id), eq(dsarRequests.status, "unverified")))
        .run().changes;
      if (changed !== 1) return null;
      const tasks = holdersOf(row, email);
      for (const task of tasks) {
        tx.insert(dsarTasks)
          .values({
            requestId: row.id,
            workspaceId: task.workspaceId,
            userId: task.userId,
            status: task.autoApproved ? "approved" : "pending",
            decidedBy: task.autoApproved ? "auto" : null,
            decidedAt: task.autoApproved ? now : null,
            dueAt: row.dueAt,
            createdAt: now,
          })
          .run();
      }
      if (tasks.length === 0) {
        tx.update(dsarRequests)
          .set({ status: "completed", completedAt: now, outcome: NO_DATA_OUTCOME })
          .where(eq(dsarRequests.id, row.id))
          .run();
      }
      return tasks;
    },
    { behavior: "immediate" },
  );
  if (!routed) {
    throw new InvalidVerificationError(
      method === "code" ? "This request is already confirmed." : LINK_INVALID,
      method === "code" ? "code" : undefined,
    );
  }
  recordAudit(ctx, {
    action: "dsar.verified",
    target: { type: "dsar_request", id: row.id },
    details: {
      method,
      proven: identifierKinds({ email: row.emailHash, phone: row.phoneHash }),
      ...(note ? { note } : {}),
    },
  });
  recordAudit(ctx, {
    action: "dsar.routed",
    target: { type: "dsar_request", id: row.id },
    details: {
      workspaces: routed.filter((t) => t.workspaceId).length,
      accounts: routed.filter((t) => t.userId).length,
      autoApproved: routed.filter((t) => t.autoApproved).length,
    },
  });
  const noData = routed.length === 0;
  const asked = askedBusiness(row.portalWorkspaceId);
  await notifyRequester(ctx, row, noData ? noDataNotice(row, asked) : confirmedNotice(row, asked));
  return { requestId: row.id, statusToken: statusToken(row.id), tasks: routed.length, noData };
}

interface Notice {
  subject: string;
  heading: string;
  paragraphs: string[];
  askedName: string;
}

const formatDay = (at: Date) =>
  at.toLocaleDateString("en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });

function noDataNotice(row: RequestRow, asked: string): Notice {
  const none = row.portalWorkspaceId
    ? `${asked} holds no data about you.`
    : "Neither Pleisys Engage nor any business using it holds data about you.";
  return {
    subject: `Your privacy request to ${asked} is complete`,
    heading: "Your privacy request is complete",
    paragraphs: [
      `You asked ${asked} for ${DSAR_TYPE_PHRASES[row.type]}. ${none}`,
      "There is nothing more for you to do.",
    ],
    askedName: asked,
  };
}

function confirmedNotice(row: RequestRow, asked: string): Notice {
  return {
    subject: `Your privacy request to ${asked} is confirmed`,
    heading: "Your privacy request is confirmed",
    paragraphs: [
      `You asked ${asked} for ${DSAR_TYPE_PHRASES[row.type]}. You will have an answer by ${formatDay(row.dueAt)}.`,
      "You can follow your request, and see the answer, on its status page.",
    ],
    askedName: asked,
  };
}

/**
 * Tells a verified requester about their request, at a proven address only: by email when they
 * proved one, else by text to the proven phone. A failure is logged, not thrown: the request
 * itself is already saved and routed.
 */
export async function notifyRequester(
  ctx: SystemContext,
  row: Pick<
    RequestRow,
    "id" | "emailEnc" | "phoneEnc" | "emailProven" | "phoneProven" | "portalWorkspaceId"
  >,
  notice: Notice,
): Promise<boolean> {
  const link = statusUrl(row.id);
  try {
    const email = row.emailProven ? decryptColumn("email_enc", row.id, row.emailEnc) : null;
    if (email) {
      await sendTransactional(ctx, "dsar-notice", email, { ...notice, statusUrl: link });
      return true;
    }
    const phone = row.phoneProven ? decryptColumn("phone_enc", row.id, row.phoneEnc) : null;
    if (phone && requesterSms(row.portalWorkspaceId)) {
      await sendText(
        row.portalWorkspaceId,
        phone,
        `${notice.askedName}: ${notice.heading}. ${link}`,
      );
      return true;
    }
  } catch (error) {
    logger.error({ err: error, requestId: row.id }, "privacy requester not notified");
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The requester's status page.

export interface HolderStatus {
  /** The business's name, or null for the requester's own Pleisys Engage account. */
  name: string | null;
  status: DsarTaskStatus;
  dueAt: Date;
  declineReason: string | null;
  completedAt: Date | null;
}

/** What became of an identifier: proven and used, given but not proven (left out), or none. */
export type IdentifierUse = "used" | "left_out" | null;

export interface RequestStatus {
  type: DsarType;
  typeLabel: string;
  status: DsarStatus;
  verified: boolean;
  receivedAt: Date;
  dueAt: Date;
  completedAt: Date | null;
  outcome: string | null;
  /** The portal's business, when it came through one. */
  portalName: string | null;
  /** The workspace whose portal it came through: null for the platform's /dsar. */
  portalWorkspaceId: string | null;
  /** Empty until the request is verified: nothing is revealed before. */
  holders: HolderStatus[];
  /** Once verified: which identifiers the request runs on. */
  email: IdentifierUse;
  phone: IdentifierUse;
}

/** What the signed status link shows; NotFoundError for anything not ours. */
export function requestStatus(token: string): RequestStatus {
  const id = readSignedToken("dsar-status", token);
  const db = getControlDb();
  const row = id ? db.select().from(dsarRequests).where(eq(dsarRequests.id, id)).get() : undefined;
  if (!row) throw new NotFoundError("Page");
  const portalName = row.portalWorkspaceId
    ? (db
        .select({ name: workspaces.name })
        .from(workspaces)
        .where(eq(workspaces.id, row.portalWorkspaceId))
        .get()?.name ?? null)
    : null;
  const verified = row.verifiedAt !== null;
  const holders = verified
    ? db
        .select({
          name: workspaces.name,
          status: dsarTasks.status,
          dueAt: dsarTasks.dueAt,
          declineReason: dsarTasks.declineReason,
          completedAt: dsarTasks.completedAt,
        })
        .from(dsarTasks)
        .leftJoin(workspaces, eq(workspaces.id, dsarTasks.workspaceId))
        .where(eq(dsarTasks.requestId, row.id))
        .orderBy(asc(dsarTasks.id))
        .all()
    : [];
  return {
    type: row.type,
    typeLabel: DSAR_TYPE_LABELS[row.type],
    status: row.status,
    verified,
    receivedAt: row.receivedAt,
    dueAt: row.dueAt,
    completedAt: row.completedAt,
    outcome: row.outcome,
    portalName,
    portalWorkspaceId: row.portalWorkspaceId,
    holders,
    email: verified ? identifierUse(row.emailProven) : null,
    phone: verified ? identifierUse(row.phoneProven) : null,
  };
}

function identifierUse(proven: boolean | null): IdentifierUse {
  if (proven === null) return null;
  return proven ? "used" : "left_out";
}

// ---------------------------------------------------------------------------------------------
// Requests that came by email to privacy@ (platform admin).

export interface OperatorLogInput {
  type: DsarType;
  email: string;
  phone?: string | null;
  phoneCountry?: string | null;
  details?: string | null;
  /** When the email arrived: the 30 days run from then. Defaults to now. */
  receivedAt?: Date | null;
  /** The operator checked the requester's identity some other way (with a note saying how). */
  identityVerified?: boolean;
  verificationNote?: string | null;
}

export interface OperatorLogResult {
  requestId: string;
  /** A verification link went to the requester. */
  verificationSent: boolean;
  verify: VerifyResult | null;
}

export async function logRequestByOperator(
  ctx: SystemContext,
  input: OperatorLogInput,
): Promise<OperatorLogResult> {
  if (ctx.actor.type !== "admin")
    throw new AppError("Only platform admins can log requests.", 403, "forbidden");
  if (!isDsarType(input.type)) {
    throw new ValidationError("Choose the kind of request.", {
      type: ["Choose the kind of request."],
    });
  }
  if (!input.email?.trim()) {
    const message = "Enter the email address the request came from.";
    throw new ValidationError(message, { email: [message] });
  }
  const ids = normaliseIdentifiers(input, input.phoneCountry?.trim() || null);
  const details = cleanDetails({
    portal: { kind: "platform" },
    type: input.type,
    details: input.details,
  });
  const now = ctx.now();
  const receivedAt = input.receivedAt ?? now;
  if (receivedAt.getTime() > now.getTime() + MINUTE) {
    const message = "The date received cannot be in the future.";
    throw new ValidationError(message, { receivedAt: [message] });
  }
  const note = input.verificationNote?.trim() ?? "";
  if (input.identityVerified && !note) {
    const message = "Say how you verified the requester's identity.";
    throw new ValidationError(message, { verificationNote: [message] });
  }
  if (note.length > 500) {
    const message = "Use at most 500 characters.";
    throw new ValidationError(message, { verificationNote: [message] });
  }
  const { id, issued } = insertRequest(
    {
      type: input.type,
      portal: PLATFORM_PORTAL,
      ids,
      canText: false,
      details,
      scope: input.type === "opt_out" ? "all" : null,
      source: "email",
      loggedBy: ctx.actor.id,
      receivedAt,
    },
    now,
  );
  recordAudit(ctx, {
    action: "dsar.logged",
    target: { type: "dsar_request", id },
    details: {
      type: input.type,
      source: "email",
      identifiers: identifierKinds(ids),
      identityVerified: !!input.identityVerified,
    },
  });
  const row = getControlDb().select().from(dsarRequests).where(eq(dsarRequests.id, id)).get()!;
  if (input.identityVerified) {
    const verify = await confirm(ctx, row, "operator", note);
    return { requestId: id, verificationSent: false, verify };
  }
  try {
    // The request came by email, so the link goes there; no code (they have no code page).
    await sendVerification(
      ctx,
      { id, type: input.type },
      PLATFORM_PORTAL,
      { email: ids.email, phone: null },
      { ...issued, code: null, codeHash: null },
    );
  } catch (error) {
    getControlDb().delete(dsarRequests).where(eq(dsarRequests.id, id)).run();
    logger.error({ err: error, requestId: id }, "privacy request verification not sent");
    throw new DeliveryFailedError();
  }
  return { requestId: id, verificationSent: true, verify: null };
}

// ---------------------------------------------------------------------------------------------
// The admin list.

export const REQUESTS_PAGE_SIZE = 50;

export interface RequestSummary {
  id: string;
  type: DsarType;
  source: "portal" | "email";
  portalName: string | null;
  status: DsarStatus;
  receivedAt: Date;
  dueAt: Date;
  /** Open and past its due date. */
  overdue: boolean;
  tasks: number;
  openTasks: number;
}

export function listRequests(
  now: Date,
  page: number,
): { rows: RequestSummary[]; total: number; overdue: number } {
  const db = getControlDb();
  const rows = db
    .select({
      id: dsarRequests.id,
      type: dsarRequests.type,
      source: dsarRequests.source,
      portalName: workspaces.name,
      status: dsarRequests.status,
      receivedAt: dsarRequests.receivedAt,
      dueAt: dsarRequests.dueAt,
      tasks: sql<number>`(SELECT count(*) FROM dsar_tasks t WHERE t.request_id = ${dsarRequests.id})`,
      openTasks: sql<number>`(SELECT count(*) FROM dsar_tasks t WHERE t.request_id = ${dsarRequests.id} AND t.status IN ('pending', 'approved'))`,
    })
    .from(dsarRequests)
    .leftJoin(workspaces, eq(workspaces.id, dsarRequests.portalWorkspaceId))
    // Open ones first, soonest due; then the rest, newest first.
    .orderBy(
      sql`CASE ${dsarRequests.status} WHEN 'open' THEN 0 WHEN 'unverified' THEN 1 ELSE 2 END`,
      sql`CASE WHEN ${dsarRequests.status} = 'open' THEN ${dsarRequests.dueAt} END`,
      desc(dsarRequests.receivedAt),
    )
    .limit(REQUESTS_PAGE_SIZE)
    .offset(Math.max(0, page - 1) * REQUESTS_PAGE_SIZE)
    .all();
  const total = db.select({ n: count() }).from(dsarRequests).get()!.n;
  const overdue = db
    .select({ n: count() })
    .from(dsarRequests)
    .where(and(eq(dsarRequests.status, "open"), lt(dsarRequests.dueAt, now)))
    .get()!.n;
  return {
    rows: rows.map((r) => ({
      ...r,
      overdue: r.status === "open" && r.dueAt < now,
    })),
    total,
    overdue,
  };
}

// ---------------------------------------------------------------------------------------------
// Expiry (called by the retention job).

/**
 * Requests nobody verified within RETENTION.unverifiedDsarDays become `expired` and lose their
 * identifiers and verification secrets. A link still inside its 24 hours (an operator logged an older email)
 * is left alone until it runs out. Returns how many expired.
 */
export function expireUnverifiedRequests(now: Date): number {
  const cutoff = new Date(now.getTime() - daysMs(RETENTION.unverifiedDsarDays));
  return getControlDb()
    .update(dsarRequests)
    .set({
      status: "expired",
      emailEnc: null,
      phoneEnc: null,
      emailHash: null,
      phoneHash: null,
      detailsEnc: null,
      verifyTokenHash: null,
      verifyCodeHash: null,
      verifyExpiresAt: null,
    })
    .where(
      and(
        eq(dsarRequests.status, "unverified"),
        lt(dsarRequests.receivedAt, cutoff),
        or(isNull(dsarRequests.verifyExpiresAt), lt(dsarRequests.verifyExpiresAt, now)),
      ),
    )
    .run().changes;
}
