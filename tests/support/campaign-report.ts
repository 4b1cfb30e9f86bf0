import { eq } from "drizzle-orm";
import type { MessageContent } from "~/channels/types";
import {
  contactEvents,
  inboundMessages,
  listMembers,
  lists,
  messageContents,
  messages,
} from "~/db/schema/tenant";
import type { MessageStatus } from "~/db/schema/tenant";
import {
  createCampaign,
  reviewCampaign,
  type CampaignContext,
} from "~/domain/campaigns/campaigns.server";
import { writeCampaignMessages } from "~/domain/campaigns/queue.server";
import { composeMarketingEmail } from "~/domain/delivery/email-compose.server";
import { suppressContact } from "~/domain/contacts/suppressions.server";
import type { Channel } from "~/lib/channels";
import { giveConsent, insertContact } from "./contacts";

/**
 * Campaigns with crafted outcomes for report tests: contacts and a list, the campaign created
 * by the campaigns domain, its messages written by the real queue (skips by reason, variants,
 * tracked links and unsubscribe links in email), then each message moved on with the
 * timestamps the dispatcher and provider webhooks would have written.
 */

export interface ReportContact {
  name: string;
  email?: string | null;
  phone?: string | null;
  /** Marketing consent on the campaign's channel (default true). */
  consent?: boolean;
  /** On the suppression list for the campaign's channel. */
  suppressed?: boolean;
}

export const LINKS = ["https://shop.example/sale?src=mail", "https://shop.example/new"] as const;

function contentFor(channel: Channel, variant: string): MessageContent {
  switch (channel) {
    case "email":
      return {
        channel,
        subject: `Winter sale (${variant})`,
        html: `<p>Hello! <a href="${LINKS[0]}">Sale</a> and <a href="${LINKS[1]}">new in</a></p>`,
        text: "Hello! The winter sale is on.",
      };
    case "whatsapp":
      return { channel, type: "text", text: `Winter sale (${variant})` };
    default:
      return { channel, text: `Winter sale (${variant})` };
  }
}

/**
 * Creates the contacts (ids in the given order), a list of them, the campaign (A/B with
 * `variants` keys when more than one) and queues it; returns the message id per contact.
 */
export function queueReportCampaign(
  ctx: CampaignContext,
  input: {
    name: string;
    channel: Channel;
    /** New contacts, or the id of an existing one (given consent on this channel). */
    contacts: (ReportContact | number)[];
    variants?: string[];
    abMetric?: "delivered" | "read" | "opened" | "clicked" | "replied";
  },
): { campaignId: number; contactIds: number[]; messageIds: Map<number, string> } {
  const contactIds = input.contacts.map((c) => {
    if (typeof c === "number") {
      giveConsent(ctx.db, c, input.channel, "granted");
      return c;
    }
    const id = insertContact(ctx.db, {
      name: c.name,
      email: c.email ?? null,
      phone: c.phone ?? null,
      country: c.phone ? "IN" : null,
    });
    if (c.consent !== false) giveConsent(ctx.db, id, input.channel, "granted");
    if (c.suppressed) {
      suppressContact(
        ctx,
        { id, email: c.email ?? null, phone: c.phone ?? null },
        "manual",
        input.channel,
      );
    }
    return id;
  });
  const list = ctx.db
    .insert(lists)
    .values({ name: `${input.name} list`, createdAt: ctx.now() })
    .returning({ id: lists.id })
    .get();
  for (const contactId of contactIds) {
    ctx.db.insert(listMembers).values({ listId: list.id, contactId, addedAt: ctx.now() }).run();
  }
  const keys = input.variants ?? ["A"];
  const campaign = createCampaign(ctx, {
    name: input.name,
    channel: input.channel,
    audience: { type: "list", id: list.id },
    variants: keys.map((key, i) => ({ key, templateId: i + 1 })),
    abTest:
      keys.length > 1
        ? { samplePercent: 50, metric: input.abMetric ?? "clicked", decideAfterMinutes: 60 }
        : null,
    schedule: { type: "now" },
  });
  // The queue never writes more than the stored review counted.
  reviewCampaign(ctx, campaign.id, { unit: "message", unitsPerRecipient: 1 });
  // Far in the future: nothing here is due for a dispatcher that may be running.
  writeCampaignMessages(ctx, campaign.id, {
    part: "all",
    notBefore: Date.now() + 365 * 86_400_000,
  });
  const rows = ctx.db
    .select({ id: messages.id, contactId: messages.contactId, variant: messages.variant })
    .from(messages)
    .where(eq(messages.campaignId, campaign.id))
    .all();
  // What the dispatcher stores when it sends each one (ADR 0011), tracked links included.
  const store = ctx.db.$client.prepare(
    "INSERT INTO message_contents (content, message_id) VALUES (?, ?)",
  );
  for (const row of rows) {
    let content = contentFor(input.channel, row.variant ?? "A");
    if (content.channel === "email") {
      content = composeMarketingEmail(content, {
        target: {
          workspaceId: ctx.workspaceId,
          contactId: row.contactId!,
          channel: "email",
          messageId: row.id,
        },
        trackOpens: true,
        trackClicks: true,
      });
    }
    store.run(JSON.stringify(content), row.id);
  }
  return {
    campaignId: campaign.id,
    contactIds,
    messageIds: new Map(rows.map((r) => [r.contactId!, r.id])),
  };
}

export interface Outcome {
  status: MessageStatus;
  sentAt?: number;
  deliveredAt?: number;
  readAt?: number;
  openedAt?: number;
  clickedAt?: number;
  failedAt?: number;
  error?: string;
}

/** Moves a message to its outcome as the dispatcher and the status webhooks record it. */
export function settleMessage(ctx: CampaignContext, messageId: string, outcome: Outcome): void {
  const at = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));
  ctx.db
    .update(messages)
    .set({
      status: outcome.status,
      error: outcome.error ?? null,
      sentAt: at(outcome.sentAt),
      deliveredAt: at(outcome.deliveredAt),
      readAt: at(outcome.readAt),
      openedAt: at(outcome.openedAt),
      clickedAt: at(outcome.clickedAt),
      failedAt: at(outcome.failedAt),
      providerMessageId: outcome.sentAt === undefined ? null : `provider-${messageId}`,
      updatedAt: new Date(),
    })
    .where(eq(messages.id, messageId))
    .run();
}

/** The tokens in a queued email: tracked links in order, and the unsubscribe link. */
export function emailTokens(
  ctx: CampaignContext,
  messageId: string,
): { clicks: string[]; unsubscribe: string } {
  const row = ctx.db
    .select({ content: messageContents.content })
    .from(messageContents)
    .where(eq(messageContents.messageId, messageId))
    .get()!;
  const html = (JSON.parse(row.content) as { html: string }).html;
  return {
    clicks: [...html.matchAll(/\/t\/c\/([\w.-]+)/g)].map((m) => m[1]!),
    unsubscribe: /\/u\/([\w.-]+)/.exec(html)![1]!,
  };
}

/** A provider complaint about a message, as the status webhook records it. */
export function recordComplaint(ctx: CampaignContext, contactId: number, messageId: string): void {
  ctx.db
    .insert(contactEvents)
    .values({
      contactId,
      at: new Date(),
      type: "message.complained",
      channel: "email",
      data: JSON.stringify({ messageId }),
    })
    .run();
}

/** A message the person wrote back, as the inbound webhook stores it. */
export function recordReply(
  ctx: CampaignContext,
  contactId: number,
  channel: Channel,
  from: string,
  at: number,
): void {
  ctx.db
    .insert(inboundMessages)
    .values({
      contactId,
      channel,
      sender: from,
      text: "Yes please",
      providerMessageId: `in-${contactId}-${at}`,
      at: new Date(at),
    })
    .run();
}
