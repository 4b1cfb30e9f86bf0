/** How a campaign's status reads on the list and the campaign page. */

export type CampaignStatusName =
  | "draft"
  | "pending_approval"
  | "scheduled"
  | "queuing"
  | "sending"
  | "testing"
  | "paused"
  | "completed"
  | "cancelled"
  | "failed";

export const CAMPAIGN_STATUS_LABELS: Record<CampaignStatusName, string> = {
  draft: "Draft",
  pending_approval: "Waiting for approval",
  scheduled: "Scheduled",
  queuing: "Queuing",
  sending: "Sending",
  testing: "Testing variants",
  paused: "Paused",
  completed: "Completed",
  cancelled: "Cancelled",
  failed: "Failed",
};

export const CAMPAIGN_STATUSES = Object.keys(CAMPAIGN_STATUS_LABELS) as CampaignStatusName[];

const TONES: Record<CampaignStatusName, string> = {
  draft: "badge",
  pending_approval: "badge badge-warning",
  scheduled: "badge",
  queuing: "badge",
  sending: "badge",
  testing: "badge",
  paused: "badge badge-warning",
  completed: "badge badge-success",
  cancelled: "badge",
  failed: "badge badge-danger",
};

export function CampaignStatusBadge({ status }: { status: CampaignStatusName }) {
  return <span className={TONES[status]}>{CAMPAIGN_STATUS_LABELS[status]}</span>;
}
