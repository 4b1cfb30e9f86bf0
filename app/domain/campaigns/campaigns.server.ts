import { count, desc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { MessageContent } from "~/channels/types";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { campaigns, lists, messages, prices, type CampaignStatus } from "~/db/schema/tenant";
import type { Channel } from "~/lib/channels";
import { CHANNELS } from "~/lib/channels";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  validationErrorFromIssues,
} from "~/lib/errors";
import { sha256Hex } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import { getSegment, prepareSavedSegment } from "../segments/segments.server";
import type { WorkspaceContext } from "../context";
import { integrationForChannel } from "../delivery/integrations.server";
import { markDue } from "../delivery/outbox.server";
import {
  DEFAULT_PRICES,
  estimateCost,
  reviewAudience,
  reviewedRecipients,
  whatsappRecipientsLast24h,
  WHATSAPP_TIER_LIMITS,
  type AudienceSql,
  type PriceRow,
  type Review,
} from "./review.server";

/**
 * Campaigns: a draft names the channel, the audience (a saved segment or a list), the
 * template(s) and when to send; the review says what will happen before anything is queued;
 * large campaigns wait for a second admin; queuing runs in slices so the dashboard stays fast;
 * pause holds what is not yet handed to a provider, cancel skips it.
 */

export type CampaignContext = WorkspaceContext & { userId?: string };

export const Audience = z.object({
  type: z.enum(["segment", "list"], { error: "Choose a segment or a list." }),
  id: z.coerce.number().int().positive("Choose a segment or a list."),
});
const Variant = z.object({
  key: z.string().regex(/^[A-D]$/),
  templateId: z.coerce.number().int().positive("Choose a template."),
});
export const Schedule = z.discriminatedUnion("type", [
  z.object({ type: z.literal("now") }),
  z.object({ type: z.literal("at"), at: z.coerce.number().int().positive() }),
  // The same wall-clock time in each contact's own time zone (their `timezone` attribute, else
  // their phone's country, else the workspace's).
  z.object({
    type: z.literal("local"),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Choose a date."),
    time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Choose a time."),
  }),
]);
export const AbTest = z.object({
  samplePercent: z.coerce.number().int().min(2).max(50),
  metric: z.enum(["delivered", "read", "opened", "clicked", "replied"]),
  decideAfterMinutes: z.coerce
    .number()
    .int()
    .min(15)
    .max(7 * 24 * 60),
});

export const CampaignInput = z
  .object({
    name: z
      .string({ error: "Name the campaign." })
      .trim()
      .min(1, "Name the campaign.")
      .max(120, "Use at most 120 characters."),
    channel: z.enum(CHANNELS, { error: "Choose a channel." }),
    audience: Audience,
    variants: z.array(Variant).min(1, "Choose a template.").max(4, "At most 4 variants."),
    abTest: AbTest.nullish(),
    schedule: Schedule,
    throttlePerSecond: z.coerce.number().int().min(1).max(100_000).nullish(),
  })
  .refine((c) => c.variants.length > 1 === Boolean(c.abTest), {
    message: "An A/B test needs 2 to 4 variants and its settings; a plain campaign one template.",
    path: ["variants"],
  });
export type CampaignInputValue = z.infer<typeof CampaignInput>;

export interface Campaign {
  id: number;
  name: string;
  channel: Channel;
  integrationId: string | null;
  status: CampaignStatus;
  audience: { type: "segment" | "list"; id: number };
  variants: { key: string; templateId: number }[];
  abTest: z.infer<typeof AbTest> | null;
  winner: string | null;
  schedule: z.infer<typeof Schedule>;
  throttlePerSecond: number | null;
  review: Review | null;
  queued: number;
  total: number;
  error: string | null;
  createdBy: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

function toCampaign(row: typeof campaigns.$inferSelect): Campaign {
  return {
    ...row,
    audience: JSON.parse(row.audience) as Campaign["audience"],
    variants: JSON.parse(row.variants) as Campaign["variants"],
    abTest: row.abTest ? (JSON.parse(row.abTest) as Campaign["abTest"]) : null,
    schedule: JSON.parse(row.schedule) as Campaign["schedule"],
    review: row.review ? (JSON.parse(row.review) as Review) : null,
  };
}

function parseInput(input: unknown): CampaignInputValue {
  const parsed = CampaignInput.safeParse(input);
  if (!parsed.success) throw validationErrorFromIssues(parsed.error.issues);
  return parsed.data;
}

export function getCampaign(ctx: WorkspaceContext, id: number): Campaign {
  const row = ctx.db.select().from(campaigns).where(eq(campaigns.id, id)).get();
  if (!row) throw new NotFoundError("Campaign", id);
  return toCampaign(row);
}

export function listCampaigns(ctx: WorkspaceContext, limit = 50): Campaign[] {
  return listCampaignsPage(ctx, { limit }).rows;
}

/** Statuses of a campaign that has started sending (to real recipients or the sandbox). */
const STARTED: CampaignStatus[] = ["queuing", "sending", "testing", "paused", "completed"];

/** Whether any campaign has started sending: the home checklist's "send a first campaign". */
export function hasStartedCampaign(ctx: WorkspaceContext): boolean {
  return (
    ctx.db
      .select({ id: campaigns.id })
      .from(campaigns)
      .where(inArray(campaigns.status, STARTED))
      .limit(1)
      .get() !== undefined
  );
}

export interface CampaignListOptions {
  status?: CampaignStatus;
  limit?: number;
  offset?: number;
}

/** Newest first, optionally one status; `total` counts every match (for the pager). */
export function listCampaignsPage(
  ctx: WorkspaceContext,
  options: CampaignListOptions = {},
): { rows: Campaign[]; total: number } {
  const where = options.status ? eq(campaigns.status, options.status) : undefined;
  const rows = ctx.db
    .select()
    .from(campaigns)
    .where(where)
    .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
    .limit(options.limit ?? 50)
    .offset(options.offset ?? 0)
    .all()
    .map(toCampaign);
  const total = ctx.db.select({ n: count() }).from(campaigns).where(where).get()?.n ?? 0;
  return { rows, total };
}

export function createCampaign(ctx: CampaignContext, input: unknown): Campaign {
  const value = parseInput(input);
  audienceSql(ctx, value.audience); // refuses an unknown or broken audience now
  const now = ctx.now();
  const row = ctx.db
    .insert(campaigns)
    .values({
      name: value.name,
      channel: value.channel,
      integrationId: integrationForChannel(ctx.workspaceId, value.channel)?.id ?? null,
      status: "draft",
      audience: JSON.stringify(value.audience),
      variants: JSON.stringify(value.variants),
      abTest: value.abTest ? JSON.stringify(value.abTest) : null,
      schedule: JSON.stringify(value.schedule),
      throttlePerSecond: value.throttlePerSecond ?? null,
      createdBy: ctx.userId ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning()
    .get();
  recordAudit(ctx, {
    action: "campaign.created",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id: row.id },
    details: { channel: value.channel, variants: value.variants.length },
  });
  return toCampaign(row);
}

export function updateCampaign(ctx: CampaignContext, id: number, input: unknown): Campaign {
  const current = getCampaign(ctx, id);
  if (current.status !== "draft") {
    throw new ConflictError("Only a draft can be changed; this campaign is already on its way.");
  }
  const value = parseInput(input);
  audienceSql(ctx, value.audience);
  ctx.db
    .update(campaigns)
    .set({
      name: value.name,
      channel: value.channel,
      integrationId: integrationForChannel(ctx.workspaceId, value.channel)?.id ?? null,
      audience: JSON.stringify(value.audience),
      variants: JSON.stringify(value.variants),
      abTest: value.abTest ? JSON.stringify(value.abTest) : null,
      schedule: JSON.stringify(value.schedule),
      throttlePerSecond: value.throttlePerSecond ?? null,
      review: null,
      updatedAt: ctx.now(),
    })
    .where(eq(campaigns.id, id))
    .run();
  return getCampaign(ctx, id);
}

/** The audience as SQL over `contacts c`. */
export function audienceSql(
  ctx: CampaignContext,
  audience: { type: "segment" | "list"; id: number },
): AudienceSql {
  if (audience.type === "segment") {
    const segment = getSegment(ctx, audience.id);
    return prepareSavedSegment(ctx, segment).where;
  }
  const list = ctx.db.select({ id: lists.id }).from(lists).where(eq(lists.id, audience.id)).get();
  if (!list) throw new NotFoundError("List", audience.id);
  return {
    sql: "c.id IN (SELECT m.contact_id FROM list_members m WHERE m.list_id = ?)",
    params: [audience.id],
  };
}

/**
 * Names the audience definition a review counted: the list, or the segment and its filter as
 * it is now. Two keys differ when the campaign points elsewhere or the segment was edited.
 */
export function audienceKey(
  ctx: WorkspaceContext,
  audience: { type: "segment" | "list"; id: number },
): string {
  if (audience.type === "list") return `list:${audience.id}`;
  const segment = getSegment(ctx, audience.id);
  return `segment:${audience.id}:${sha256Hex(JSON.stringify(segment.definition))}`;
}

function workspaceCurrency(workspaceId: string): "INR" | "USD" {
  return (
    getControlDb()
      .select({ currency: workspaces.currency })
      .from(workspaces)
      .where(eq(workspaces.id, workspaceId))
      .get()?.currency ?? "INR"
  );
}

/** The workspace's price table; the defaults for its currency until it sets its own. */
export function priceTable(ctx: WorkspaceContext): PriceRow[] {
  const own = ctx.db.select().from(prices).all();
  return own.length > 0 ? own : DEFAULT_PRICES[workspaceCurrency(ctx.workspaceId)];
}

/** What the cost is counted in for one recipient: Meta's category, SMS segments, a message. */
export interface CostUnit {
  unit: string;
  unitsPerRecipient: number;
}

/**
 * How many people a submitted campaign may reach without a fresh review. An approved campaign
 * was approved for the people the review counted, and a WhatsApp review spent the tier's room
 * on them: neither grows. Any other campaign may grow up to the workspace's approval threshold
 * (it never needed a second person below it), so a scheduled send to a growing list still goes
 * out; past the threshold it needs review and approval first.
 */
export function recipientsWithoutNewReview(ctx: CampaignContext, campaign: Campaign): number {
  const review = campaign.review;
  if (!review) return 0;
  const reviewed = reviewedRecipients(review);
  if (campaign.approvedBy !== null || campaign.channel === "whatsapp") return reviewed;
  const threshold = approvalThreshold(ctx.workspaceId);
  return threshold === null ? Number.POSITIVE_INFINITY : Math.max(reviewed, threshold);
}

/**
 * Computes the review: audience, skips by reason (with the WhatsApp tier limit), cost per
 * country, duration at the account's rate (or the campaign's throttle). `costUnit` comes from
 * the template (category or segment count).
 */
export function reviewCampaign(ctx: CampaignContext, id: number, costUnit: CostUnit): Review {
  const campaign = getCampaign(ctx, id);
  // Once submitted, the stored review is what was approved: it is never recounted in place.
  if (campaign.status !== "draft") {
    throw new ConflictError("Only a draft can be reviewed; this campaign was already sent.");
  }
  const audience = reviewAudience(ctx.db, audienceSql(ctx, campaign.audience), campaign.channel);
  const integration = integrationForChannel(ctx.workspaceId, campaign.channel);
  let eligible = audience.eligible;
  const skipped = { ...audience.skipped };
  const byCountry = { ...audience.byCountry };
  if (campaign.channel === "whatsapp" && integration) {
    const tier = integration.details.messagingTier ?? "TIER_1K";
    const limit = WHATSAPP_TIER_LIMITS[tier] ?? WHATSAPP_TIER_LIMITS.TIER_1K!;
    const room = Math.max(0, limit - whatsappRecipientsLast24h(ctx.db, ctx.now().getTime()));
    if (eligible > room) {
      const over = eligible - room;
      skipped.over_tier_limit = over;
      eligible = room;
      // Take the excess off the largest countries first (the order the queue will not reach).
      let left = over;
      for (const country of Object.keys(byCountry).sort((a, b) => byCountry[b]! - byCountry[a]!)) {
        const cut = Math.min(left, byCountry[country]!);
        byCountry[country] = byCountry[country]! - cut;
        left -= cut;
        if (left === 0) break;
      }
    }
  }
  const lines = estimateCost(
    priceTable(ctx),
    campaign.channel,
    costUnit.unit,
    costUnit.unitsPerRecipient,
    byCountry,
  );
  const accountRate = integration?.ratePerSecond ?? 1_000;
  const ratePerSecond = Math.min(accountRate, campaign.throttlePerSecond ?? accountRate);
  const review: Review = {
    audience: audience.audience,
    eligible,
    skipped,
    byCountry,
    cost: {
      currency: workspaceCurrency(ctx.workspaceId),
      totalMinor: lines.reduce((sum, l) => sum + l.totalMinor, 0),
      lines,
    },
    durationSeconds: Math.ceil(eligible / ratePerSecond),
    ratePerSecond,
    sandbox: !integration,
    audienceKey: audienceKey(ctx, campaign.audience),
  };
  ctx.db
    .update(campaigns)
    .set({ review: JSON.stringify(review), updatedAt: ctx.now() })
    .where(eq(campaigns.id, id))
    .run();
  return review;
}

/** Above this many eligible recipients a campaign needs a second admin; null: never. */
export function approvalThreshold(workspaceId: string): number | null {
  return (
    getControlDb()
      .select({ threshold: workspaces.approvalThreshold })
      .from(workspaces)
      .where(eq(workspaces.id, workspaceId))
      .get()?.threshold ?? null
  );
}

function setStatus(ctx: WorkspaceContext, id: number, status: CampaignStatus, extra = {}): void {
  ctx.db
    .update(campaigns)
    .set({ status, updatedAt: ctx.now(), ...extra })
    .where(eq(campaigns.id, id))
    .run();
}

/**
 * "Send": needs a review; above the workspace's approval threshold it waits for a second
 * admin, otherwise it is scheduled (the scheduler starts queuing at its time).
 */
export function submitCampaign(ctx: CampaignContext, id: number): Campaign {
  const campaign = getCampaign(ctx, id);
  if (campaign.status !== "draft") throw new ConflictError("This campaign was already sent.");
  if (!campaign.review) throw new ValidationError("Review the campaign before sending it.");
  if (
    campaign.review.audienceKey !== undefined &&
    campaign.review.audienceKey !== audienceKey(ctx, campaign.audience)
  ) {
    throw new ValidationError(
      "The segment changed after this review. Open the review again to see who it reaches now.",
    );
  }
  const threshold = approvalThreshold(ctx.workspaceId);
  const needsApproval = threshold !== null && campaign.review.eligible > threshold;
  setStatus(ctx, id, needsApproval ? "pending_approval" : "scheduled", {
    total: campaign.review.eligible,
    error: null,
  });
  if (!needsApproval) markDue(ctx.workspaceId, scheduledAt(campaign, ctx));
  recordAudit(ctx, {
    action: needsApproval ? "campaign.submitted_for_approval" : "campaign.scheduled",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { eligible: campaign.review.eligible, audience: campaign.review.audience },
  });
  return getCampaign(ctx, id);
}

/** When the runner should start it: its time, or now. */
function scheduledAt(campaign: Campaign, ctx: WorkspaceContext): number {
  return campaign.schedule.type === "at"
    ? Math.max(campaign.schedule.at, ctx.now().getTime())
    : ctx.now().getTime();
}

/** Four eyes: the approver must be another member than the one who created it. */
export function approveCampaign(ctx: CampaignContext, id: number): Campaign {
  const campaign = getCampaign(ctx, id);
  if (campaign.status !== "pending_approval") {
    throw new ConflictError("This campaign is not waiting for approval.");
  }
  if (!ctx.userId || ctx.userId === campaign.createdBy) {
    throw new ForbiddenError("Another admin must approve a campaign you created.");
  }
  setStatus(ctx, id, "scheduled", { approvedBy: ctx.userId, approvedAt: ctx.now() });
  markDue(ctx.workspaceId, scheduledAt(campaign, ctx));
  recordAudit(ctx, {
    action: "campaign.approved",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { eligible: campaign.review?.eligible ?? 0 },
  });
  return getCampaign(ctx, id);
}

/** Why the queue refused to start a campaign: its audience is not the one that was reviewed. */
export type AudienceChange =
  { kind: "grown"; reviewed: number; now: number } | { kind: "segment_changed" };

/**
 * The review is a ceiling: a campaign whose audience grew past what was reviewed (and approved),
 * or whose segment was edited, goes back to being a draft before anything is queued. Someone
 * reviews it again and sends it, and above the workspace's limit a second admin approves it
 * again: the new numbers are seen before anyone gets a message.
 */
export function returnForReview(ctx: CampaignContext, id: number, change: AudienceChange): void {
  const campaign = getCampaign(ctx, id);
  const approved = campaign.approvedBy !== null;
  const when = approved ? "after it was reviewed and approved" : "after it was reviewed";
  const what =
    change.kind === "grown"
      ? `its audience grew ${when} (${change.now.toLocaleString("en-US")} people can receive it now; the review counted ${change.reviewed.toLocaleString("en-US")})`
      : `its segment was changed ${when}`;
  const threshold = approvalThreshold(ctx.workspaceId);
  const again =
    threshold === null
      ? "Review it again to send it."
      : `Review it again to send it; above ${threshold.toLocaleString("en-US")} recipients another owner or admin has to approve it${approved ? " again" : ""}.`;
  const done = ctx.db
    .update(campaigns)
    .set({
      status: "draft",
      review: null,
      total: 0,
      queued: 0,
      startedAt: null,
      approvedBy: null,
      approvedAt: null,
      error: `Not sent: ${what}. Nothing was queued. ${again}`,
      updatedAt: ctx.now(),
    })
    .where(sql`${campaigns.id} = ${id} AND ${campaigns.status} IN ('queuing', 'paused')`)
    .run();
  if (done.changes === 0) return;
  recordAudit(ctx, {
    action: "campaign.returned_for_review",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { ...change, wasApproved: approved },
  });
}

/** Holds every message of the campaign not yet handed to a provider. */
export function pauseCampaign(ctx: CampaignContext, id: number): { held: number } {
  const campaign = getCampaign(ctx, id);
  if (!["scheduled", "queuing", "sending", "testing"].includes(campaign.status)) {
    throw new ConflictError("Only a campaign that is on its way can be paused.");
  }
  const held = ctx.db.$client
    .prepare(
      `UPDATE messages SET next_attempt_at = next_attempt_at + ?, updated_at = ?
        WHERE campaign_id = ? AND status = 'queued' AND next_attempt_at < ?`,
    )
    .run(HOLD_MS, ctx.now().getTime(), id, HOLD_MS).changes;
  setStatus(ctx, id, "paused", { error: null });
  recordAudit(ctx, {
    action: "campaign.paused",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { held },
  });
  return { held };
}

/** A paused message waits this far in the future; resume takes it back. */
const HOLD_MS = 100 * 365 * 24 * 60 * 60_000;

export function resumeCampaign(ctx: CampaignContext, id: number): { released: number } {
  const campaign = getCampaign(ctx, id);
  if (campaign.status !== "paused") throw new ConflictError("This campaign is not paused.");
  const now = ctx.now().getTime();
  const released = ctx.db.$client
    .prepare(
      `UPDATE messages SET next_attempt_at = max(next_attempt_at - ?, ?), updated_at = ?
        WHERE campaign_id = ? AND status = 'queued' AND next_attempt_at >= ?`,
    )
    .run(HOLD_MS, now, now, id, HOLD_MS).changes;
  const next = campaign.queued < campaign.total ? "queuing" : "sending";
  setStatus(ctx, id, campaign.startedAt ? next : "scheduled");
  if (released > 0) markDue(ctx.workspaceId, now);
  recordAudit(ctx, {
    action: "campaign.resumed",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { released },
  });
  return { released };
}

export function cancelCampaign(ctx: CampaignContext, id: number): { cancelled: number } {
  const campaign = getCampaign(ctx, id);
  if (["completed", "cancelled", "failed"].includes(campaign.status)) {
    throw new ConflictError("This campaign has already ended.");
  }
  const now = ctx.now().getTime();
  const cancelled = ctx.db.$client
    .prepare(
      `UPDATE messages SET status = 'skipped', error = 'Campaign cancelled', updated_at = ?
        WHERE campaign_id = ? AND status = 'queued'`,
    )
    .run(now, id).changes;
  setStatus(ctx, id, "cancelled", { finishedAt: ctx.now() });
  recordAudit(ctx, {
    action: "campaign.cancelled",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { cancelled },
  });
  return { cancelled };
}

/** Deletes a draft (nothing was queued for it); anything sent or on its way is kept. */
export function deleteCampaign(ctx: CampaignContext, id: number): void {
  const campaign = getCampaign(ctx, id);
  if (campaign.status !== "draft") {
    throw new ConflictError("Only a draft can be deleted; cancel a campaign that is on its way.");
  }
  ctx.db.delete(campaigns).where(eq(campaigns.id, id)).run();
  recordAudit(ctx, {
    action: "campaign.deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id },
    details: { name: campaign.name },
  });
}

// ---------------------------------------------------------------------------------------------
// Progress and reports.

export interface CampaignProgress {
  status: CampaignStatus;
  /** Recipients the review found eligible. */
  total: number;
  /** Everyone in the audience at the review: the queue writes a row for each, skips included. */
  audience: number;
  queued: number;
  byStatus: Record<string, number>;
  opened: number;
  clicked: number;
  replied: number;
}

export function campaignProgress(ctx: WorkspaceContext, id: number): CampaignProgress {
  const campaign = getCampaign(ctx, id);
  const rows = ctx.db
    .select({ status: messages.status, n: sql<number>`count(*)` })
    .from(messages)
    .where(eq(messages.campaignId, id))
    .groupBy(messages.status)
    .all();
  // Each count reads a small partial index, and replies start from the inbound messages since
  // the campaign began (far fewer than its messages): cheap enough to ask every few seconds.
  const engaged = ctx.db.$client
    .prepare(
      `SELECT
         (SELECT count(*) FROM messages WHERE campaign_id = ? AND opened_at IS NOT NULL) AS opened,
         (SELECT count(*) FROM messages WHERE campaign_id = ? AND clicked_at IS NOT NULL) AS clicked`,
    )
    .get(id, id) as { opened: number; clicked: number };
  const replied = campaign.startedAt
    ? (ctx.db.$client
        .prepare(
          `SELECT count(DISTINCT i.contact_id) FROM inbound_messages i
            WHERE i.at >= ? AND EXISTS (
              SELECT 1 FROM messages m WHERE m.contact_id = i.contact_id AND m.campaign_id = ?
                 AND m.channel = i.channel AND m.sent_at <= i.at)`,
        )
        .pluck()
        .get(campaign.startedAt.getTime(), id) as number)
    : 0;
  return {
    status: campaign.status,
    total: campaign.total,
    audience: campaign.review?.audience ?? campaign.total,
    queued: campaign.queued,
    byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    opened: engaged.opened,
    clicked: engaged.clicked,
    replied,
  };
}

/** The rendered content of one variant for one contact (the templates area supplies it). */
export type Renderer = (contact: RenderContact) => MessageContent;
export interface RenderContact {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  attributes: string;
}
