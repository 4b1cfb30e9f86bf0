import { useEffect, useState } from "react";
import type { ConversationPageData } from "./route";

function left(ms: number): string {
  if (ms <= 0) return "closed";
  const minutes = Math.ceil(ms / 60_000);
  const h = Math.floor(minutes / 60);
  return h > 0 ? `${h} h ${minutes % 60} min left` : `${minutes} min left`;
}

/** What can be sent now: the WhatsApp window's countdown, template-only, or blocked. */
export function WindowBanner({ window }: { window: ConversationPageData["window"] }) {
  const closesAt = window.state === "open" ? window.closesAt : null;
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    if (!closesAt) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, [closesAt]);
  switch (window.state) {
    case "open":
      return (
        <div className="alert alert-info inbox-window" role="status">
          <strong>WhatsApp window open</strong> until{" "}
          <time dateTime={window.closesAt}>{window.closesText}</time> (
          {now === null ? window.leftText : left(new Date(window.closesAt).getTime() - now)}): free
          text can be sent.
        </div>
      );
    case "template-only":
      return (
        <div className="alert alert-warning inbox-window" role="status">
          <strong>Template only.</strong> {window.reason}
        </div>
      );
    case "blocked":
      return (
        <div className="alert alert-error inbox-window" role="status">
          <strong>Replies are blocked.</strong> {window.reason}
        </div>
      );
    case "free":
      return null;
  }
}

export { left as windowLeftText };
