import { eq } from "drizzle-orm";
import { strFromU8, unzipSync } from "fflate";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { dsarRequests, dsarTasks, workspaces } from "~/db/schema/control";
import { contacts } from "~/db/schema/tenant";
import { listFileMailbox, readFileMailboxMessage } from "~/emails/transport.server";
import { reloadEnv } from "~/lib/env.server";
import { createSmsFake, type SmsFake } from "../../../tests/fakes/sms";
import { createContact } from "../contacts/contacts.server";
import { isSuppressed } from "../contacts/suppressions.server";
import { suppressionKey } from "../contacts/suppression-hash.server";
import type { SystemContext, WorkspaceContext } from "../context";
import {
  requestStatus,
  statusToken,
  submitRequest,
  verifyCode,
  verifyRequest,
  type Portal,
} from "./dsar-requests.server";
import { runDsarTasks } from "./dsar-queues.server";
import { indexSubjects, subjectHashes } from "./subject-index.server";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { sendMailToFiles } from "../../../tests/support/mailbox";

/**
 * Only identifiers the requester proved are used. The attack: my own email (or phone), which I
 * can prove, plus the victim's phone (or email), which I cannot. Whichever I prove, the request
 * must run on it alone: the victim's data is not exported, erased or opted out, no holder of
 * only the victim is named, and no notice goes to the victim's address.
 */

sendMailToFiles();

const platformAccount = { sid: "AC" + "a1".repeat(16), token: "platform-sms-token" };
let sms: SmsFake;
let shared: WorkspaceContext; // holds the victim and the attacker
let other: WorkspaceContext; // holds only the victim
let ip = 0;

const unique = () => randomBytes(4).toString("hex");

function ctx(): SystemContext {
  ip += 1;
  return {
    actor: { type: "system", id: "dsar-portal" },
    now: () => new Date(),
    request: { ip: `198.51.100.${ip % 250}`, userAgent: "vitest" },
  };
}

async function workspace(name: string): Promise<WorkspaceContext> {
  const ctx = await makeWorkspace(`proven-${unique()}`, { name });
  // Auto-approval: the job carries the request out without anyone looking at it.
  getControlDb()
    .update(workspaces)
    .set({ dsarAutoApprove: true })
    .where(eq(workspaces.id, ctx.workspaceId))
    .run();
  return ctx;
}

function contact(ws: WorkspaceContext, name: string, who: { email: string; phone: string }) {
  const row = createContact(ws, { name, ...who, attributes: {} });
  indexSubjects(ws.workspaceId, subjectHashes({ email: row.email, phone: row.phone }));
  return row.id;
}

async function mailsTo(address: string) {
  const { items } = await listFileMailbox({ limit: 1000, offset: 0 });
  return items.filter((m) => m.to.toLowerCase() === address.toLowerCase());
}

async function linkTokenFor(email: string): Promise<string> {
  const [newest] = await mailsTo(email);
  const text = (await readFileMailboxMessage(newest!.id))!.text ?? "";
  return /\/dsar\/verify\/([A-Za-z0-9_-]+)/.exec(text)![1]!;
}

function codeFor(phone: string): string {
  const texts = sms.sent.filter((m) => m.to === phone);
  return /code is (\d{6})/.exec(texts[texts.length - 1]!.body)![1]!;
}

beforeAll(async () => {
  sms = createSmsFake({ accounts: [platformAccount] });
  await sms.start();
  process.env.SMS_API_BASE_URL = sms.url;
  process.env.PLATFORM_SMS_ACCOUNT_SID = platformAccount.sid;
  process.env.PLATFORM_SMS_AUTH_TOKEN = platformAccount.token;
  process.env.PLATFORM_SMS_FROM = "+15005550006";
  process.env.PROVIDER_TIMEOUT_MS = "2000";
  reloadEnv();
  shared = await workspace("Shared Shop");
  other = await workspace("Victim Only Store");
});

afterAll(async () => {
  await sms?.stop();
});

const TYPES = ["export", "erasure", "opt_out"] as const;
const DIRECTIONS = ["email proven, phone claimed", "phone proven, email claimed"] as const;
const PORTALS = ["platform", "workspace"] as const;

let n = 0;

describe.each(PORTALS)("on the %s portal", (portalKind) => {
  describe.each(DIRECTIONS)("%s", (direction) => {
    it.each(TYPES)("%s: the victim is left untouched", async (type) => {
      n += 1;
      const pad = String(1000 + n);
      const victim = { email: `victim-${unique()}@example.com`, phone: `+91987${pad}001` };
      const attacker = { email: `attacker-${unique()}@example.com`, phone: `+91981${pad}002` };
      const victimShared = contact(shared, "Vera Victim", victim);
      const victimOther = contact(other, "Vera Victim", victim);
      const attackerShared = contact(shared, "Arjun Attacker", attacker);
      const emailProven = direction === "email proven, phone claimed";
      const portal: Portal =
        portalKind === "platform"
          ? { kind: "platform" }
          : {
              kind: "workspace",
              slug: getControlDb()
                .select({ slug: workspaces.slug })
                .from(workspaces)
                .where(eq(workspaces.id, shared.workspaceId))
                .get()!.slug,
            };

      const submitted = await submitRequest(ctx(), {
        portal,
        type,
        email: emailProven ? attacker.email : victim.email,
        phone: emailProven ? victim.phone : attacker.phone,
      });
      const verified = emailProven
        ? await verifyRequest(ctx(), await linkTokenFor(attacker.email))
        : await verifyCode(ctx(), submitted.requestId, codeFor(attacker.phone));
      expect(verified.requestId).toBe(submitted.requestId);

      // The victim's identifier is gone from the request; it ran on the proven one alone.
      const row = getControlDb()
        .select()
        .from(dsarRequests)
        .where(eq(dsarRequests.id, submitted.requestId))
        .get()!;
      expect(row).toMatchObject(
        emailProven
          ? { emailProven: true, phoneProven: false, phoneEnc: null, phoneHash: null }
          : { emailProven: false, phoneProven: true, emailEnc: null, emailHash: null },
      );
      const status = requestStatus(statusToken(submitted.requestId));
      expect(status).toMatchObject(
        emailProven ? { email: "used", phone: "left_out" } : { email: "left_out", phone: "used" },
      );
      // Only the attacker's own holder; the workspace holding only the victim is never named.
      expect(status.holders.map((h) => h.name)).toEqual(["Shared Shop"]);
      const tasks = getControlDb()
        .select()
        .from(dsarTasks)
        .where(eq(dsarTasks.requestId, submitted.requestId))
        .all();
      expect(tasks.map((t) => t.workspaceId)).toEqual([shared.workspaceId]);

      await runDsarTasks(ctx());
      const [task] = getControlDb()
        .select()
        .from(dsarTasks)
        .where(eq(dsarTasks.requestId, submitted.requestId))
        .all();
      expect(task!.status).toBe("completed");

      const exists = (ws: WorkspaceContext, id: number) =>
        ws.db.select().from(contacts).where(eq(contacts.id, id)).get() !== undefined;
      const suppressed = (ws: WorkspaceContext, who: { email: string; phone: string }) =>
        (["email", "sms", "whatsapp"] as const).some(
          (channel) =>
            isSuppressed(ws.db, suppressionKey(ws.db), { email: who.email }, channel) ||
            isSuppressed(ws.db, suppressionKey(ws.db), { phone: who.phone }, channel),
        );

      if (type === "export") {
        const files = unzipSync(
          new Uint8Array(readFileSync(join(process.env.DATA_DIR!, task!.exportFile!))),
        );
        const text = Object.values(files)
          .map((data) => strFromU8(data))
          .join("\n");
        expect(text).toContain("Arjun Attacker");
        expect(text).not.toContain("Vera Victim");
        expect(text).not.toContain(victim.email);
        expect(text).not.toContain(victim.phone);
      }
      if (type === "erasure") {
        expect(exists(shared, attackerShared)).toBe(false);
      }
      if (type === "opt_out") {
        expect(suppressed(shared, attacker)).toBe(true);
      }
      // The victim stays, everywhere, and can still be messaged.
      expect(exists(shared, victimShared)).toBe(true);
      expect(exists(other, victimOther)).toBe(true);
      expect(suppressed(shared, victim)).toBe(false);
      expect(suppressed(other, victim)).toBe(false);

      // Notices go only to the proven address: the victim gets at most the confirmation request
      // the attacker's submission triggered, never a status or outcome.
      const victimMail = await mailsTo(victim.email);
      expect(victimMail.every((m) => /Confirm your privacy request/.test(m.subject))).toBe(true);
      const victimTexts = sms.sent.filter((m) => m.to === victim.phone);
      expect(victimTexts.every((m) => /your privacy request code is/.test(m.body))).toBe(true);
      if (emailProven) {
        const attackerMail = await mailsTo(attacker.email);
        expect(attackerMail.some((m) => /is complete|is ready to download/.test(m.subject))).toBe(
          true,
        );
      } else {
        const attackerTexts = sms.sent.filter((m) => m.to === attacker.phone);
        expect(attackerTexts.some((m) => /is complete/.test(m.body))).toBe(true);
      }
    });
  });
});
