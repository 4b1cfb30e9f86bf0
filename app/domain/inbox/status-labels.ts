import { CONVERSATION_STATUSES, type ConversationStatus } from "~/db/schema/tenant-inbox";

export { CONVERSATION_STATUSES };

/** How a conversation's status reads on pages (shared by server and browser code). */
export const STATUS_LABELS: Record<ConversationStatus, string> = {
  open: "Open",
  pending: "Pending",
  snoozed: "Snoozed",
  resolved: "Resolved",
};
