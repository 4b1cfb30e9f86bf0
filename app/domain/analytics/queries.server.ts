import { campaignProgress } from "../campaigns/campaigns.server";
import type { WorkspaceContext, WorkspaceProfile } from "../context";
import { inboxReport, type ReportRange } from "../inbox/reports.server";
import { campaignReport } from "./campaign-report.server";
import { workspaceOverview } from "./overview.server";

/**
 * The read-heavy queries pages ask for (a campaign's numbers over up to millions of messages,
 * the workspace's last 30 days). They run in the analytics worker thread
 * (analytics-worker.server.ts), never on the web's: one slow report must not stall every
 * other request. Each takes the workspace context first, then plain-data arguments.
 */
export const analyticsQueries = {
  campaignProgress: (ctx: WorkspaceContext, campaignId: number) =>
    campaignProgress(ctx, campaignId),
  campaignReport: (ctx: WorkspaceContext, campaignId: number) => campaignReport(ctx, campaignId),
  workspaceOverview: (ctx: WorkspaceContext) => workspaceOverview(ctx),
  inboxReport: (ctx: WorkspaceContext, range: ReportRange) => inboxReport(ctx, range),
};

export type AnalyticsQueries = typeof analyticsQueries;
export type AnalyticsQueryName = keyof AnalyticsQueries;
export type AnalyticsArgs<K extends AnalyticsQueryName> =
  Parameters<AnalyticsQueries[K]> extends [WorkspaceContext, ...infer Rest] ? Rest : never;
export type AnalyticsResult<K extends AnalyticsQueryName> = ReturnType<AnalyticsQueries[K]>;

export interface AnalyticsRequest {
  id: number;
  name: AnalyticsQueryName;
  /** The workspace asked about: its file, and its time zone for local days and hours. */
  workspace: WorkspaceProfile;
  args: unknown[];
}

export type AnalyticsReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; notFound: boolean };
