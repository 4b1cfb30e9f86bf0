import { workspaceContextFor } from "../workspaces/access.server";
import { eq, inArray } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { campaigns } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { logger } from "~/lib/logger.server";
import { recordAudit } from "../audit/audit.server";
import { systemContext } from "../context";
import type { DueHook } from "../delivery/dispatcher.server";
import { markDue } from "../delivery/outbox.server";
import { pickWinner, type VariantStats } from "./ab-test";
import { getCampaign, type Campaign, type CampaignContext } from "./campaigns.server";
import { queueCampaign } from "./queue.server";
import { campaignRenderers } from "./renderers.server";

/**
 * When campaigns move on by themselves: a scheduled one starts queuing at its time, an A/B test
 * is decided after its wait and the winner goes to the rest, a campaign whose messages have all
 * ended is completed. Runs whenever the dispatcher visits a due workspace (the time of the next
 * step is given back, so the workspace is visited then).
 */

const queuing = new Set<string>();

function contextFor(workspaceId: string, db: TenantDb, now: number): CampaignContext | null {
  const workspace = getControlDb()
    .select({ status: workspaces.status })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!workspace || workspace.status !== "active") return null;
  return workspaceContextFor(
    systemContext("campaigns", () => new Date(now)),
    workspaceId,
    db,
  );
}

function startAt(campaign: Campaign): number {
  return campaign.schedule.type === "at" ? campaign.schedule.at : 0;
}

function decideAt(campaign: Campaign): number {
  return (campaign.startedAt?.getTime() ?? 0) + (campaign.abTest?.decideAfterMinutes ?? 0) * 60_000;
}

function failCampaign(ctx: CampaignContext, id: number, error: unknown): void {
  ctx.db
    .update(campaigns)
    .set({
      status: "failed",
      error: error instanceof Error ? error.message : String(error),
      updatedAt: new Date(),
    })
    .where(eq(campaigns.id, id))
    .run();
}

/** Starts queuing in the background (one queuing per campaign at a time). */
function launch(
  ctx: CampaignContext,
  campaign: Campaign,
  part: "all" | "sample" | "rest",
  winner?: string,
): void {
  const key = `${ctx.workspaceId}:${campaign.id}`;
  if (queuing.has(key)) return;
  queuing.add(key);
  try {
    // Checked here (a template that cannot be sent fails the campaign at once); the messages
    // are written with the same renderers when they are sent.
    campaignRenderers(ctx, campaign);
  } catch (error) {
    queuing.delete(key);
    failCampaign(ctx, campaign.id, error);
    return;
  }
  const nextStatus = part === "sample" ? "testing" : "sending";
  void queueCampaign(ctx, campaign.id, { part, winner })
    .then((result) => {
      // Its audience changed after the review: it is a draft again, nothing to move on.
      if (result.stopped) return;
      const current = getCampaign(ctx, campaign.id);
      if (current.status === "queuing") {
        ctx.db
          .update(campaigns)
          .set({ status: nextStatus, updatedAt: new Date() })
          .where(eq(campaigns.id, campaign.id))
          .run();
      }
      // Visit again: to decide the A/B test, or to see the campaign through to completed
      // (the visits queuing triggered may already have sent everything).
      markDue(ctx.workspaceId, part === "sample" ? decideAt(current) : Date.now());
    })
    .catch((error: unknown) => {
      logger.error({ err: error, campaignId: campaign.id }, "campaign queuing failed");
      failCampaign(ctx, campaign.id, error);
    })
    .finally(() => queuing.delete(key));
}

export function variantStats(db: TenantDb, campaignId: number): VariantStats[] {
  return db.$client
    .prepare(
      `SELECT m.variant AS key, count(m.sent_at) AS sent, count(m.delivered_at) AS delivered,
              count(m.read_at) AS read, count(m.opened_at) AS opened,
              count(m.clicked_at) AS clicked,
              count(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i
                 WHERE i.contact_id = m.contact_id AND i.channel = m.channel AND i.at >= m.sent_at)
                 THEN m.contact_id END) AS replied
         FROM messages m WHERE m.campaign_id = ? AND m.variant IS NOT NULL
        GROUP BY m.variant ORDER BY m.variant`,
    )
    .all(campaignId) as VariantStats[];
}

/** One visit: moves every campaign of the workspace that is due; returns the next due time. */
export function runDueCampaigns(ctx: CampaignContext): number | null {
  const now = ctx.now().getTime();
  let next: number | null = null;
  const later = (at: number) => (next = next === null ? at : Math.min(next, at));
  const active = ctx.db
    .select()
    .from(campaigns)
    .where(inArray(campaigns.status, ["scheduled", "queuing", "testing", "sending"]))
    .all();
  for (const row of active) {
    const campaign = getCampaign(ctx, row.id);
    switch (campaign.status) {
      case "scheduled": {
        const at = startAt(campaign);
        if (at > now) {
          later(at);
          break;
        }
        ctx.db
          .update(campaigns)
          .set({ status: "queuing", startedAt: new Date(now), updatedAt: new Date(now) })
          .where(eq(campaigns.id, campaign.id))
          .run();
        recordAudit(ctx, {
          action: "campaign.sent",
          workspaceId: ctx.workspaceId,
          target: { type: "campaign", id: campaign.id },
          details: { eligible: campaign.review?.eligible ?? 0, abTest: Boolean(campaign.abTest) },
        });
        launch(ctx, { ...campaign, startedAt: new Date(now) }, campaign.abTest ? "sample" : "all");
        break;
      }
      case "queuing":
        // Interrupted by a restart: the idempotency keys make resuming safe.
        if (!queuing.has(`${ctx.workspaceId}:${campaign.id}`)) {
          launch(
            ctx,
            campaign,
            campaign.abTest && !campaign.winner ? "sample" : campaign.winner ? "rest" : "all",
            campaign.winner ?? undefined,
          );
        }
        break;
      case "testing": {
        const at = decideAt(campaign);
        if (at > now) {
          later(at);
          break;
        }
        const stats = variantStats(ctx.db, campaign.id);
        const winner = pickWinner(stats, campaign.abTest!.metric);
        ctx.db
          .update(campaigns)
          .set({ winner, status: "queuing", updatedAt: new Date(now) })
          .where(eq(campaigns.id, campaign.id))
          .run();
        recordAudit(ctx, {
          action: "campaign.ab_decided",
          workspaceId: ctx.workspaceId,
          target: { type: "campaign", id: campaign.id },
          details: { winner, metric: campaign.abTest!.metric, variants: stats.length },
        });
        launch(ctx, { ...campaign, winner }, "rest", winner);
        break;
      }
      case "sending": {
        const open = ctx.db.$client
          .prepare(
            "SELECT count(*) FROM messages WHERE campaign_id = ? AND status IN ('queued', 'sending')",
          )
          .pluck()
          .get(campaign.id) as number;
        if (open > 0) {
          later(now + 10_000);
          break;
        }
        ctx.db
          .update(campaigns)
          .set({ status: "completed", finishedAt: new Date(now), updatedAt: new Date(now) })
          .where(eq(campaigns.id, campaign.id))
          .run();
        const counts = ctx.db.$client
          .prepare(
            "SELECT status, count(*) AS n FROM messages WHERE campaign_id = ? GROUP BY status",
          )
          .all(campaign.id) as { status: string; n: number }[];
        recordAudit(ctx, {
          action: "campaign.completed",
          workspaceId: ctx.workspaceId,
          target: { type: "campaign", id: campaign.id },
          details: Object.fromEntries(counts.map((c) => [c.status, c.n])),
        });
        break;
      }
      default:
        break;
    }
  }
  return next;
}

/** The runner on the dispatcher's visits to a due workspace (the host wires it in). */
export const campaignRunnerHook: DueHook = (workspaceId, db, now) => {
  const ctx = contextFor(workspaceId, db, now);
  return ctx ? runDueCampaigns(ctx) : null;
};

/** Wakes the workspace now (after submit, approve or resume). */
export function startCampaignsSoon(workspaceId: string): void {
  markDue(workspaceId, Date.now());
}
