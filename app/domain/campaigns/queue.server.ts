import type { WorkspaceProfile } from "../context";
import type { Channel } from "~/lib/channels";
import { logger } from "~/lib/logger.server";
import { idSource } from "~/lib/tokens";
import { countryTimeZones, zonedWallTimeToInstant } from "~/lib/time-zone";
import { isTimeZone } from "../workspaces/options";
import { startWorker } from "~/lib/worker.server";
import { tenantDbPath } from "~/db/tenants.server";
import { recordAudit } from "../audit/audit.server";
import { suppressionHash, suppressionKey } from "../contacts/suppression-hash.server";
import { markDue } from "../delivery/outbox.server";
import { conversationForOutbound } from "../inbox/conversations.server";
import {
  audienceKey,
  audienceSql,
  getCampaign,
  recipientsWithoutNewReview,
  returnForReview,
  type AudienceChange,
  type CampaignContext,
} from "./campaigns.server";
import { reviewAudience, reviewedRecipients, SKIP_LABELS } from "./review.server";

/**
 * Queuing a campaign: the audience is snapshotted (ids, one query), then written as messages in
 * slices of SLICE recipients, one transaction each. Each message carries the idempotency key
 * `campaign:<id>:<contact>`, so a queuing interrupted by a restart resumes without duplicates.
 * People who may not be messaged are written as `skipped` with the reason, as the outbox does,
 * so the report counts them. The content is not written here: the dispatcher renders each
 * message from its campaign's template when it sends it (ADR 0011), so queuing a million
 * recipients writes a million small rows, not a million personalised emails.
 *
 * The stored review is a ceiling (ADR 0010): before the first row is written the audience is
 * counted again, and if more people could receive it than the review allows
 * (recipientsWithoutNewReview), or its segment was edited, nothing is written and the campaign
 * goes back to being a draft. Once writing has
 * begun (an A/B test's rest, a resumed queue), no more than the review's `eligible` are queued;
 * anyone beyond is written as skipped with the reason.
 */

/** Why someone past the reviewed number is not messaged (they joined after the review). */
export const OVER_REVIEW_LABEL = "Joined the audience after the campaign was reviewed";

// Short transactions: while one holds the write lock, the web thread's own writes (the
// dispatcher claiming and recording sends) wait synchronously, and pages wait behind them.
const SLICE = 1_000;

const ADDRESS: Record<Channel, "email" | "phone" | "telegram_chat_id"> = {
  email: "email",
  whatsapp: "phone",
  sms: "phone",
  telegram: "telegram_chat_id",
};

/** Deterministic "random" share of the audience for an A/B sample: same contact, same answer. */
export function inSample(contactId: number, percent: number): boolean {
  return (Math.imul(contactId, 2_654_435_761) >>> 0) % 100 < percent;
}

export interface QueueOptions {
  /** Which contacts to write now: all, an A/B sample, or everyone but the sample. */
  part: "all" | "sample" | "rest";
  /** The variant for everyone in a "rest" part (the A/B winner). */
  winner?: string;
  /** Not before (scheduled sends). */
  notBefore?: number;
  /** Called after each slice with the recipients done and the messages queued so far. */
  onSlice?: (done: number, queued: number) => void;
  /**
   * How many may receive it without a fresh review (recipientsWithoutNewReview); the reviewed
   * number when not given.
   */
  ceiling?: number;
}

/**
 * When a "same local time for everyone" campaign reaches each contact: their `timezone`
 * attribute when it names a real zone, else their phone's country when it has a single zone,
 * else the workspace's zone. Never before `now` (a time already past there sends at once).
 */
function localSendTime(schedule: { date: string; time: string }, fallbackZone: string) {
  const byZone = new Map<string, number>();
  const byCountry = new Map<string, string>();
  const instantIn = (zone: string): number => {
    let at = byZone.get(zone);
    if (at === undefined) {
      try {
        at = zonedWallTimeToInstant(schedule.date, schedule.time, zone);
      } catch {
        at = zonedWallTimeToInstant(schedule.date, schedule.time, fallbackZone);
      }
      byZone.set(zone, at);
    }
    return at;
  };
  const zoneOfCountry = (country: string): string => {
    let zone = byCountry.get(country);
    if (zone === undefined) {
      const zones = countryTimeZones(country);
      zone = zones.length === 1 ? zones[0]! : fallbackZone;
      byCountry.set(country, zone);
    }
    return zone;
  };
  return (contact: { timezone: string | null; country: string | null }, now: number): number => {
    const zone =
      contact.timezone && isTimeZone(contact.timezone)
        ? contact.timezone
        : contact.country
          ? zoneOfCountry(contact.country)
          : fallbackZone;
    return Math.max(now, instantIn(zone));
  };
}

/**
 * Writes the campaign's messages, slice by slice, on the connection of `ctx` (the campaign
 * queue worker's own). Synchronous: it runs in a worker thread, never on the web's.
 */
export function writeCampaignMessages(
  ctx: CampaignContext,
  id: number,
  options: QueueOptions,
): { queued: number; skipped: number; stopped?: AudienceChange } {
  const campaign = getCampaign(ctx, id);
  const review = campaign.review;
  if (!review) throw new Error("The campaign was never reviewed, so it cannot be queued.");
  const db = ctx.db;
  const client = db.$client;
  const where = audienceSql(ctx, campaign.audience);
  // One read transaction: the ids written below are the audience that was counted.
  const { ids, written, stopped } = client.transaction(() => {
    const snapshot = client
      .prepare(`SELECT c.id FROM contacts c WHERE ${where.sql} ORDER BY c.id`)
      .pluck()
      .all(...where.params) as number[];
    const rows = client
      .prepare(
        "SELECT count(*) AS total, count(*) FILTER (WHERE status != 'skipped') AS sent FROM messages WHERE campaign_id = ?",
      )
      .get(id) as { total: number; sent: number };
    let change: AudienceChange | undefined;
    if (rows.total === 0) {
      if (
        review.audienceKey !== undefined &&
        review.audienceKey !== audienceKey(ctx, campaign.audience)
      ) {
        change = { kind: "segment_changed" };
      } else {
        const now = reviewAudience(db, where, campaign.channel).eligible;
        const reviewed = reviewedRecipients(review);
        if (now > (options.ceiling ?? reviewed)) change = { kind: "grown", reviewed, now };
      }
    }
    return { ids: snapshot, written: rows.sent, stopped: change };
  })();
  // The caller sends it back for review (on the main thread, where the audit log is).
  if (stopped) return { queued: 0, skipped: 0, stopped };
  // The review's tier cut first, then anyone who joined since: neither is queued.
  const ceiling = options.ceiling ?? review.eligible;
  let tierCut = review.skipped.over_tier_limit ?? 0;
  const key = suppressionKey(db);
  const suppressed = new Set(
    client
      .prepare("SELECT hash FROM suppressions WHERE channel IN (?, 'all')")
      .pluck()
      .all(campaign.channel) as string[],
  );
  const schedule = campaign.schedule;
  const local = schedule.type === "local" ? localSendTime(schedule, ctx.workspace.timeZone) : null;
  const columns = `c.id, c.email, c.phone, c.country, c.${ADDRESS[campaign.channel]} AS address,
      ${local ? "json_extract(c.attributes, '$.timezone')" : "NULL"} AS timezone,
      (SELECT status FROM consents k WHERE k.contact_id = c.id AND k.channel = ?) AS consent`;
  const contactsInRange = client.prepare(
    `SELECT ${columns} FROM contacts c WHERE c.id BETWEEN ? AND ?`,
  );
  const contactsById = client.prepare(
    `SELECT ${columns} FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))`,
  );
  const contactsOf = (slice: number[]): QueueContact[] => {
    const first = slice[0]!;
    const last = slice[slice.length - 1]!;
    // A dense audience (most of the id range) is read as one range, a sparse one by id.
    if (last - first < slice.length * 2) {
      const wanted = new Set(slice);
      return (contactsInRange.all(campaign.channel, first, last) as QueueContact[]).filter((c) =>
        wanted.has(c.id),
      );
    }
    return contactsById.all(campaign.channel, JSON.stringify(slice)) as QueueContact[];
  };
  const insert = client.prepare(
    `INSERT INTO messages (id, contact_id, channel, integration_id, kind, recipient, status,
       attempts, next_attempt_at, idempotency_key, error, campaign_id, variant, created_at, updated_at,
       conversation_id)
     VALUES (?, ?, ?, ?, 'marketing', ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (idempotency_key) DO NOTHING`,
  );
  const progress = client.prepare("UPDATE campaigns SET queued = ?, updated_at = ? WHERE id = ?");
  const status = client.prepare("SELECT status FROM campaigns WHERE id = ?").pluck();
  const variants = campaign.variants.map((v) => v.key);
  const percent = campaign.abTest?.samplePercent ?? 100;
  let queued = 0;
  let skipped = 0;
  let done = 0;
  const startAt = options.notBefore ?? ctx.now().getTime();
  const messageIds = idSource("msg");

  for (let start = 0; start < ids.length; start += SLICE) {
    const current = status.get(id) as string | undefined;
    if (!current || current === "paused" || current === "cancelled") break;
    const rows = contactsOf(ids.slice(start, start + SLICE));
    const now = ctx.now().getTime();
    client.transaction(() => {
      for (const contact of rows) {
        const sampled = options.part === "all" || inSample(contact.id, percent);
        if (options.part === "sample" && !sampled) continue;
        if (options.part === "rest" && sampled) continue;
        const variant =
          options.part === "rest"
            ? options.winner!
            : variants.length > 1
              ? variants[contact.id % variants.length]!
              : variants[0]!;
        let reason: string | null = null;
        if (!contact.address) reason = SKIP_LABELS.no_address;
        else if (
          suppressed.size > 0 &&
          ((contact.email && suppressed.has(suppressionHash(key, "email", contact.email))) ||
            (contact.phone && suppressed.has(suppressionHash(key, "phone", contact.phone))))
        ) {
          reason = SKIP_LABELS.suppressed;
        } else if (contact.consent !== "granted") reason = SKIP_LABELS.no_consent;
        else if (written + queued >= ceiling) {
          reason = tierCut > 0 ? SKIP_LABELS.over_tier_limit : OVER_REVIEW_LABEL;
        }
        // The inbox's rule for marketing: join the contact's active conversation, never start one.
        const conversationId = reason
          ? null
          : conversationForOutbound(db, {
              contactId: contact.id,
              channel: campaign.channel,
              integrationId: campaign.integrationId,
              at: new Date(now),
              preview: `Campaign: ${campaign.name}`,
              kind: "marketing",
            });
        const changes = insert.run(
          messageIds(),
          contact.id,
          campaign.channel,
          campaign.integrationId,
          contact.address ?? "",
          reason ? "skipped" : "queued",
          local ? local(contact, now) : startAt,
          `campaign:${id}:${contact.id}`,
          reason,
          id,
          variant,
          now,
          now,
          conversationId,
        ).changes;
        if (changes === 0) continue;
        if (reason === SKIP_LABELS.over_tier_limit) tierCut -= 1;
        if (reason) skipped += 1;
        else queued += 1;
      }
      done = Math.min(ids.length, start + SLICE);
      progress.run(done, now, id);
    })();
    options.onSlice?.(done, queued);
  }
  return { queued, skipped };
}

interface QueueContact {
  id: number;
  email: string | null;
  phone: string | null;
  country: string | null;
  address: string | null;
  timezone: string | null;
  consent: string | null;
}

export interface CampaignQueueWorkerData {
  workspaceId: string;
  dbPath: string;
  campaignId: number;
  workspace: WorkspaceProfile;
  part: QueueOptions["part"];
  winner?: string;
  notBefore?: number;
  ceiling: number;
}

export type CampaignQueueMessage =
  | { type: "slice"; done: number; queued: number }
  | { type: "done"; queued: number; skipped: number; stopped?: AudienceChange }
  | { type: "error"; error: string };

/**
 * Queues a campaign in a worker thread (its own connection; rendering, hashing and inserting
 * a million messages would stall every page here). Each slice the worker commits wakes the
 * dispatcher, so sending starts while the rest is still being written.
 */
export function queueCampaign(
  ctx: CampaignContext,
  id: number,
  options: Omit<QueueOptions, "onSlice">,
): Promise<{ queued: number; skipped: number; stopped?: AudienceChange }> {
  const data: CampaignQueueWorkerData = {
    workspaceId: ctx.workspaceId,
    dbPath: tenantDbPath(ctx.workspaceId),
    campaignId: id,
    workspace: ctx.workspace,
    part: options.part,
    winner: options.winner,
    notBefore: options.notBefore,
    ceiling: recipientsWithoutNewReview(ctx, getCampaign(ctx, id)),
  };
  const startAt = options.notBefore ?? ctx.now().getTime();
  return new Promise((resolve, reject) => {
    const worker = startWorker("app/workers/campaign-queue.worker.ts", {
      workerData: data,
      name: `campaign-queue-${id}`,
    });
    let settled = false;
    worker.on("message", (message: CampaignQueueMessage) => {
      if (message.type === "slice") {
        if (message.queued > 0) markDue(ctx.workspaceId, startAt);
        return;
      }
      settled = true;
      if (message.type === "error") {
        reject(new Error(message.error));
        return;
      }
      if (message.stopped) {
        returnForReview(ctx, id, message.stopped);
        logger.info(
          { workspaceId: ctx.workspaceId, campaignId: id, ...message.stopped },
          "campaign returned for review: its audience changed",
        );
        resolve(message);
        return;
      }
      logger.info({ workspaceId: ctx.workspaceId, campaignId: id, ...message }, "campaign queued");
      recordAudit(ctx, {
        action: "campaign.queued",
        workspaceId: ctx.workspaceId,
        target: { type: "campaign", id },
        details: { part: options.part, queued: message.queued, skipped: message.skipped },
      });
      resolve({ queued: message.queued, skipped: message.skipped });
    });
    worker.on("error", (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.on("exit", (code) => {
      if (!settled) reject(new Error(`The campaign queue worker stopped (exit code ${code}).`));
      settled = true;
    });
  });
}
