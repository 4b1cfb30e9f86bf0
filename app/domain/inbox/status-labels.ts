import type { ConversationStatus } from "~/db/schema/tenant-inbox";

/** How a conversation's status reads on pages (shared by server and browser code). */
export const STATUS_LABELS: Record<ConversationStatus, string> = {
  open: "Open",
  pending: "Pending",
  snoozed: "Snoozed",
  resolved: "Resolved",
};
