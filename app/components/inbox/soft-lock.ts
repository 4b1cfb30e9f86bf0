/**
 * The soft lock on a conversation, worked out in the browser from the presence the server
 * reports (routes/w.$slug.inbox.$conversationId_.presence.ts and `presence` events). The
 * entry's shape is the one presence.server.ts sends.
 */

export type PresenceActivity = "viewing" | "replying";

/** One member present in a conversation. `at` is when their page last said so (ms). */
export interface PresenceEntry {
  userId: string;
  name: string;
  activity: PresenceActivity;
  at: number;
}

export interface SoftLock {
  /** Other members writing a reply right now, oldest first. */
  replying: PresenceEntry[];
  /** Other members with the conversation open who are not writing. */
  viewing: PresenceEntry[];
  /** What the composer shows, e.g. "Asha is replying"; null when nobody else is. */
  banner: string | null;
  /** Sending asks "Send anyway" first while someone else is replying. */
  confirmBeforeSend: boolean;
}

function names(entries: PresenceEntry[]): string {
  const list = entries.map((e) => e.name || "Someone");
  if (list.length <= 1) return list.join("");
  if (list.length === 2) return `${list[0]} and ${list[1]}`;
  return `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;
}

/**
 * The soft lock as `viewerId` sees it: nobody is blocked, but while another member is replying
 * the composer names them and sending asks for confirmation, so two people rarely answer the
 * same customer twice. The viewer's own presence (in any tab) never locks them.
 */
export function softLock(entries: readonly PresenceEntry[], viewerId: string): SoftLock {
  const others = entries.filter((e) => e.userId !== viewerId).sort((a, b) => a.at - b.at);
  const replying = others.filter((e) => e.activity === "replying");
  const viewing = others.filter((e) => e.activity === "viewing");
  return {
    replying,
    viewing,
    banner:
      replying.length === 0
        ? null
        : `${names(replying)} ${replying.length === 1 ? "is" : "are"} replying`,
    confirmBeforeSend: replying.length > 0,
  };
}
