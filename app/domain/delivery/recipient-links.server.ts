import { and, eq, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { consents, contactEvents, contacts, messages, suppressions } from "~/db/schema/tenant";
import { isWorkspaceId, withTenantDb } from "~/db/tenants.server";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { getEnv } from "~/lib/env.server";
import { ValidationError } from "~/lib/errors";
import { suppressionHash, suppressionKey } from "../contacts/suppression-hash.server";
import { suppressContactInTransaction, writeConsentChange } from "../contacts/suppressions.server";
import { systemContext } from "../context";
import { recordAudit } from "../audit/audit.server";
import { readClickToken, readOpenToken, readUnsubscribeToken } from "./email-compose.server";
import {
  tooSoonAfterSending,
  whyNotCounted,
  type EngagementRequest,
} from "./machine-engagement.server";

/**
 * What the links in a marketing email do for the person who got it, with no sign-in: the
 * unsubscribe page (one-click, resubscribe, choose channels), the open pixel and click
 * redirects. Each works only with a token we signed for that workspace, contact and message.
 */

export class InvalidLinkError extends ValidationError {
  constructor() {
    super(
      "This link is not valid. It may have been copied incompletely: open it from the email again.",
    );
  }
}

export interface PreferencesView {
  workspaceName: string;
  maskedAddress: string;
  /** The channel the link came from (always email today). */
  channel: Channel;
  channels: { channel: Channel; label: string; subscribed: boolean }[];
}

function maskEmail(email: string | null): string {
  if (!email) return "your address";
  const [local = "", domain = ""] = email.split("@");
  return `${local.slice(0, 2)}${"•".repeat(Math.max(1, local.length - 2))}@${domain}`;
}

function target(token: string) {
  const t = readUnsubscribeToken(token);
  if (!t || !isWorkspaceId(t.workspaceId)) throw new InvalidLinkError();
  const workspace = getControlDb()
    .select({ name: workspaces.name, status: workspaces.status })
    .from(workspaces)
    .where(eq(workspaces.id, t.workspaceId))
    .get();
  if (!workspace) throw new InvalidLinkError();
  if (workspace.status === "deleted") {
    // Its data is out of reach (and soon erased); nothing more is ever sent from it.
    throw new ValidationError(
      "The sender of this email has closed its account with us, so you will get no more messages from it and there is nothing to unsubscribe from.",
    );
  }
  return { ...t, workspaceName: workspace.name };
}

export async function describePreferences(token: string): Promise<PreferencesView> {
  const t = target(token);
  return withTenantDb(t.workspaceId, async (db) => {
    const contact = db.select().from(contacts).where(eq(contacts.id, t.contactId)).get();
    if (!contact) throw new InvalidLinkError();
    const rows = db.select().from(consents).where(eq(consents.contactId, t.contactId)).all();
    const granted = new Set(rows.filter((r) => r.status === "granted").map((r) => r.channel));
    return {
      workspaceName: t.workspaceName,
      maskedAddress: maskEmail(contact.email),
      channel: t.channel,
      channels: CHANNELS.filter((c) => rows.some((r) => r.channel === c)).map((channel) => ({
        channel,
        label: CHANNEL_LABELS[channel],
        subscribed: granted.has(channel),
      })),
    };
  });
}

/**
 * Sets the person's marketing consent per channel. Unsubscribing suppresses the channel (so
 * no import or campaign re-adds them); resubscribing is their own choice and lifts their own
 * unsubscribe (never a bounce, complaint or erasure).
 */
export async function setPreferences(
  token: string,
  wanted: Partial<Record<Channel, boolean>>,
  request?: { ip?: string; userAgent?: string },
): Promise<{ unsubscribed: Channel[]; resubscribed: Channel[] }> {
  const t = target(token);
  const ctx = { ...systemContext("recipient-link"), request };
  return withTenantDb(t.workspaceId, async (db) => {
    const key = suppressionKey(db);
    const at = new Date();
    const changed = { unsubscribed: [] as Channel[], resubscribed: [] as Channel[] };
    db.transaction(
      (tx) => {
        const contact = tx.select().from(contacts).where(eq(contacts.id, t.contactId)).get();
        if (!contact) throw new InvalidLinkError();
        const rows = tx.select().from(consents).where(eq(consents.contactId, contact.id)).all();
        for (const [channel, subscribe] of Object.entries(wanted) as [Channel, boolean][]) {
          const current = rows.find((r) => r.channel === channel)?.status;
          if (!subscribe && current !== "withdrawn") {
            suppressContactInTransaction(tx, key, contact, "unsubscribe", channel, at);
            if (!current) {
              writeConsentChange(tx, {
                contactId: contact.id,
                channel,
                status: "withdrawn",
                source: "Unsubscribed by email link",
                at,
              });
            }
            changed.unsubscribed.push(channel);
          } else if (subscribe && current === "withdrawn") {
            for (const kind of ["email", "phone"] as const) {
              const value = contact[kind];
              if (!value) continue;
              tx.delete(suppressions)
                .where(
                  and(
                    eq(suppressions.hash, suppressionHash(key, kind, value)),
                    eq(suppressions.channel, channel),
                    eq(suppressions.reason, "unsubscribe"),
                  ),
                )
                .run();
            }
            writeConsentChange(tx, {
              contactId: contact.id,
              channel,
              status: "granted",
              source: "Resubscribed on the unsubscribe page",
              at,
            });
            changed.resubscribed.push(channel);
          }
        }
      },
      { behavior: "immediate" },
    );
    if (changed.unsubscribed.length || changed.resubscribed.length) {
      recordAudit(ctx, {
        action: "contact.preferences_changed",
        workspaceId: t.workspaceId,
        target: { type: "contact", id: t.contactId },
        details: changed,
      });
    }
    return changed;
  });
}

/** RFC 8058 one-click: unsubscribes the link's channel, nothing to confirm. */
export async function unsubscribeOneClick(
  token: string,
  request?: { ip?: string; userAgent?: string },
): Promise<void> {
  const t = target(token);
  await setPreferences(token, { [t.channel]: false }, request);
}

function trackingAllowed(workspaceId: string, kind: "opens" | "clicks"): boolean {
  const row = getControlDb()
    .select({ opens: workspaces.trackOpens, clicks: workspaces.trackClicks })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  return Boolean(row && row[kind]);
}

/**
 * Records an open or a click on the message and as a contact event. A click's event also
 * carries the campaign and the URL, so a campaign report can count clicks per link. A hit from
 * a machine (machine-engagement.server.ts) changes no count: it is kept on the contact's
 * timeline as `message.open_not_counted` / `message.click_not_counted` with the reason.
 */
async function recordEngagement(
  workspaceId: string,
  messageId: string,
  engagement: { type: "opened" } | { type: "clicked"; url: string },
  request: EngagementRequest,
): Promise<void> {
  const type = engagement.type;
  await withTenantDb(workspaceId, async (db) => {
    const message = db
      .select({
        id: messages.id,
        contactId: messages.contactId,
        channel: messages.channel,
        campaignId: messages.campaignId,
        sentAt: messages.sentAt,
      })
      .from(messages)
      .where(eq(messages.id, messageId))
      .get();
    if (!message) return;
    const now = new Date();
    const reason =
      whyNotCounted(type === "opened" ? "open" : "click", request, appOrigin()) ??
      (type === "clicked" && tooSoonAfterSending(message.sentAt, now) ? "too-soon" : null);
    const data = {
      messageId,
      ...(engagement.type === "clicked"
        ? { campaignId: message.campaignId, url: engagement.url }
        : {}),
      ...(reason ? { reason } : {}),
    };
    db.transaction((tx) => {
      if (!reason) {
        // The first open / click is the one a report counts; every one is a contact event.
        const first = sql`coalesce(${type === "opened" ? messages.openedAt : messages.clickedAt}, ${now.getTime()})`;
        tx.update(messages)
          .set(
            type === "opened"
              ? { openedAt: first, updatedAt: now }
              : { clickedAt: first, updatedAt: now },
          )
          .where(eq(messages.id, message.id))
          .run();
      }
      if (message.contactId !== null) {
        tx.insert(contactEvents)
          .values({
            contactId: message.contactId,
            at: now,
            type: reason
              ? `message.${type === "opened" ? "open" : "click"}_not_counted`
              : `message.${type}`,
            channel: message.channel,
            data: JSON.stringify(data),
          })
          .run();
      }
    });
  });
}

function appOrigin(): string {
  return new URL(getEnv().BASE_URL).origin;
}

/**
 * The open pixel: records an open when the workspace tracks opens and a person (not our app, a
 * bot or a privacy proxy) loaded it; never fails visibly.
 */
export async function recordOpen(token: string, request: EngagementRequest): Promise<void> {
  const t = readOpenToken(token);
  if (!t || !isWorkspaceId(t.workspaceId) || !trackingAllowed(t.workspaceId, "opens")) return;
  await recordEngagement(t.workspaceId, t.messageId, { type: "opened" }, request);
}

/**
 * A tracked link: where to send the person (only the URL we signed), recording the click when
 * a person made it. Scanners and prefetchers are redirected too, just not counted.
 */
export async function followClick(token: string, request: EngagementRequest): Promise<string> {
  const t = readClickToken(token);
  if (!t || !isWorkspaceId(t.workspaceId)) throw new InvalidLinkError();
  if (trackingAllowed(t.workspaceId, "clicks")) {
    await recordEngagement(t.workspaceId, t.messageId, { type: "clicked", url: t.url }, request);
  }
  return t.url;
}
