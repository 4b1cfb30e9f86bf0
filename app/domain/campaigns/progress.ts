import type { CampaignStatus } from "~/db/schema/tenant";

/**
 * What the campaign page's progress bar shows, from the outbox's per-status counts. Counts are
 * cumulative the way people read them: a delivered message was also sent, a read one delivered.
 */

export interface ProgressCounts {
  /** Waiting in the outbox (queued or being handed to the provider). */
  waiting: number;
  sent: number;
  delivered: number;
  /** Read (WhatsApp, Telegram) or opened (email). */
  seen: number;
  clicked: number;
  replied: number;
  failed: number;
  skipped: number;
}

export interface ProgressSummary {
  status: CampaignStatus;
  /** Recipients the review found eligible (the campaign's size). */
  total: number;
  /** Everyone in the audience: the queue writes one message each, the skipped ones included. */
  audience: number;
  /** How many messages the worker has written to the outbox so far (of `audience`). */
  queued: number;
  /** Messages that reached an end (sent or beyond, failed or skipped), of the audience. */
  percent: number;
  counts: ProgressCounts;
  running: boolean;
}

/** States in which the numbers still move: the page refreshes them. */
export const RUNNING_STATUSES: readonly CampaignStatus[] = [
  "scheduled",
  "queuing",
  "sending",
  "testing",
];

export function summariseProgress(input: {
  status: CampaignStatus;
  total: number;
  audience: number;
  queued: number;
  byStatus: Record<string, number>;
  opened: number;
  clicked: number;
  replied: number;
}): ProgressSummary {
  const n = (status: string) => input.byStatus[status] ?? 0;
  const read = n("read");
  const delivered = n("delivered") + read;
  const sent = n("sent") + delivered;
  const failed = n("failed") + n("bounced");
  const skipped = n("skipped");
  const done = sent + failed + skipped;
  const waiting = n("queued") + n("sending");
  const audience = Math.max(input.audience, input.total, done + waiting);
  const percent = audience > 0 ? Math.min(100, Math.floor((done / audience) * 100)) : 0;
  return {
    status: input.status,
    total: input.total,
    audience,
    queued: input.queued,
    percent: input.status === "completed" ? 100 : percent,
    counts: {
      waiting,
      sent,
      delivered,
      seen: Math.max(read, input.opened),
      clicked: input.clicked,
      replied: input.replied,
      failed,
      skipped,
    },
    running: RUNNING_STATUSES.includes(input.status),
  };
}
