import { eq } from "drizzle-orm";
import { consents, contacts } from "~/db/schema/tenant";
import { CHANNELS, type Channel } from "~/lib/channels";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { suppressionKey } from "./suppression-hash.server";
import {
  isSuppressed,
  suppressionsFor,
  SUPPRESSION_REASON_LABELS,
  writeConsentChange,
  type ConsentStatus,
  type SuppressionMatch,
} from "./suppressions.server";

/**
 * Consent: per contact and channel, granted or withdrawn, with the source in the tenant's words.
 * The suppression list (suppressions.server.ts) overrides it: nobody on it is messaged there.
 */

export interface ConsentState {
  channel: Channel;
  status: ConsentStatus | null;
  source: string | null;
  at: Date | null;
  /** Suppressions on this channel or on all channels. */
  suppressed: SuppressionMatch[];
}

/** Every channel's consent for one contact, with the suppressions that apply to it. */
export function consentStates(
  ctx: WorkspaceContext,
  contactId: number,
  suppressed: readonly SuppressionMatch[],
): ConsentState[] {
  const current = ctx.db.select().from(consents).where(eq(consents.contactId, contactId)).all();
  return CHANNELS.map((channel) => {
    const row = current.find((c) => c.channel === channel);
    return {
      channel,
      status: row?.status ?? null,
      source: row?.source ?? null,
      at: row?.at ?? null,
      suppressed: suppressed.filter((s) => s.channel === channel || s.channel === "all"),
    };
  });
}

const MAX_SOURCE = 200;
const CHANNEL_NEEDS: Record<Channel, "email" | "phone" | null> = {
  email: "email",
  whatsapp: "phone",
  sms: "phone",
  telegram: null,
};

/**
 * Grants or withdraws consent on one channel. Granting needs a source in the tenant's words
 * ("signed up on website form") and is refused for people on the suppression list. Every
 * change appends a consent.granted / consent.withdrawn event with its source.
 */
export function setConsent(
  ctx: WorkspaceContext,
  contactId: number,
  channel: string,
  status: string,
  source: string | null | undefined,
): { changed: boolean } {
  if (!(CHANNELS as readonly string[]).includes(channel)) {
    throw new ValidationError("Choose a channel from the list.", {
      channel: ["Choose a channel from the list."],
    });
  }
  if (status !== "granted" && status !== "withdrawn") {
    throw new ValidationError("Choose granted or withdrawn.", {
      status: ["Choose granted or withdrawn."],
    });
  }
  const ch = channel as Channel;
  let text = (source ?? "").trim().replace(/\s+/g, " ");
  if (text.length > MAX_SOURCE) {
    const message = `Keep the source under ${MAX_SOURCE} characters.`;
    throw new ValidationError(message, { source: [message] });
  }
  if (status === "granted" && !text) {
    const message =
      "Say where this consent came from, for example “signed up on website form”. Consent without a source cannot be proven.";
    throw new ValidationError(message, { source: [message] });
  }
  if (!text) text = "Withdrawn in the dashboard";
  const key = suppressionKey(ctx.db);
  const now = ctx.now();
  const changed = ctx.db.transaction(
    (tx) => {
      const contact = tx
        .select({ id: contacts.id, email: contacts.email, phone: contacts.phone })
        .from(contacts)
        .where(eq(contacts.id, contactId))
        .get();
      if (!contact) throw new NotFoundError("Contact", contactId);
      if (status === "granted") {
        const needs = CHANNEL_NEEDS[ch];
        if (needs && !contact[needs]) {
          throw new ValidationError(
            `This contact has no ${needs === "email" ? "email address" : "phone number"}, so there is nothing to send ${ch === "email" ? "email" : ch === "sms" ? "SMS" : "WhatsApp messages"} to. Add one first.`,
          );
        }
        if (isSuppressed(tx, key, contact, ch)) {
          const reasons = suppressionsFor(tx, key, contact)
            .filter((s) => s.channel === ch || s.channel === "all")
            .map((s) => SUPPRESSION_REASON_LABELS[s.reason].toLowerCase());
          throw new ValidationError(
            `Consent cannot be granted: this person is on the suppression list for this channel (${[...new Set(reasons)].join(", ")}). They must not be messaged there.`,
          );
        }
      }
      return writeConsentChange(tx, {
        contactId,
        channel: ch,
        status,
        source: text,
        at: now,
      });
    },
    { behavior: "immediate" },
  );
  if (changed) {
    recordAudit(ctx, {
      action: "contact.consent_changed",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { channel: ch, status },
    });
  }
  return { changed };
}
