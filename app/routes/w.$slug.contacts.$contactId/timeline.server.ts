import type { TimelineEvent } from "~/domain/contacts/timeline.server";
import { SUPPRESSION_REASON_LABELS } from "~/domain/contacts/suppressions.server";
import { NOT_COUNTED_REASONS, type NotCountedReason } from "~/domain/delivery/not-counted";
import { CHANNEL_LABELS } from "~/lib/channels";

/** One timeline event as the sentence the contact page shows. */
export function timelineSentence(event: TimelineEvent): string {
  const d = event.data;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  const channel = event.channel ? CHANNEL_LABELS[event.channel] : "";
  switch (event.type) {
    case "contact.created": {
      const by = text(d.by);
      const how =
        by === "api_key"
          ? " through the API"
          : by === "system" || by === "cli"
            ? " by an import"
            : " by a team member";
      return `Contact created${how}`;
    }
    case "contact.updated": {
      const fields = Array.isArray(d.fields) ? d.fields.map(String) : [];
      const attributes = Array.isArray(d.attributes) ? d.attributes.map(String) : [];
      const all = [...fields, ...attributes.map((a) => `attribute ${a}`)];
      return all.length ? `Details changed: ${all.join(", ")}` : "Details changed";
    }
    case "consent.granted":
      return `${channel} consent granted. Source: ${text(d.source)}`;
    case "consent.withdrawn":
      return `${channel} consent withdrawn. Source: ${text(d.source)}`;
    case "tag.added":
      return `Tagged “${text(d.tag)}”`;
    case "tag.removed":
      return `Tag “${text(d.tag)}” removed`;
    case "list.added":
      return `Added to the list “${text(d.list)}”`;
    case "list.removed":
      return `Removed from the list “${text(d.list)}”`;
    case "message.replied":
      return `Wrote on ${channel || "a channel"}: “${text(d.text)}”`;
    case "contact.suppressed": {
      const reason = text(d.reason) as keyof typeof SUPPRESSION_REASON_LABELS;
      const label = SUPPRESSION_REASON_LABELS[reason] ?? reason;
      return `Suppressed on ${channel || "all channels"} (${label.toLowerCase()})`;
    }
    case "message.open_not_counted":
    case "message.click_not_counted": {
      const what = event.type === "message.open_not_counted" ? "Open" : "Click";
      const reason = NOT_COUNTED_REASONS[text(d.reason) as NotCountedReason];
      return `${what} not counted${channel ? ` (${channel})` : ""}: ${reason ?? "not a person"}`;
    }
    default: {
      const words = event.type.replace(/[._]/g, " ");
      const sentence = words.charAt(0).toUpperCase() + words.slice(1);
      return channel ? `${sentence} (${channel})` : sentence;
    }
  }
}
