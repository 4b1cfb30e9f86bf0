import { Link } from "@remix-run/react";
import type { ConversationPageData } from "./route";

/** Who the conversation is with, and who has it (assignment, labels and notes sit beside it). */
export function Details({ d }: { d: ConversationPageData }) {
  const c = d.conversation;
  return (
    <section className="card" aria-labelledby="details-heading">
      <h2 id="details-heading" className="card-title">
        Details
      </h2>
      <dl className="details-grid">
        <dt>Contact</dt>
        <dd>
          <Link to={`/w/${d.workspace.slug}/contacts/${c.contactId}`}>{c.contactName}</Link>
          {c.contactAddress ? <div className="muted">{c.contactAddress}</div> : null}
        </dd>
        <dt>Channel</dt>
        <dd>{c.channelLabel}</dd>
        <dt>Assigned to</dt>
        <dd>{c.assignee ?? "Nobody"}</dd>
        <dt>Team</dt>
        <dd>{c.team ?? "None"}</dd>
        <dt>Started</dt>
        <dd>{c.created}</dd>
      </dl>
    </section>
  );
}
