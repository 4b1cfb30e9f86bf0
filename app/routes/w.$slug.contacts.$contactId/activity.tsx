import { Link } from "@remix-run/react";
import { FormErrors } from "~/components/form";
import { MessageStatusBadge } from "~/components/message-status";
import { EmptyState } from "~/components/ui/layout";
import type { ContactPageData } from "./route";

/** The ten newest messages to the contact, and whether WhatsApp's reply window is open. */
export function MessagesSection({
  d,
  messages,
}: {
  d: ContactPageData;
  messages: NonNullable<ContactPageData["messages"]>;
}) {
  return (
    <section className="admin-section" aria-labelledby="messages-heading">
      <h2 id="messages-heading">Messages</h2>
      {d.whatsappWindow ? (
        <p>
          <strong>WhatsApp 24-hour window open</strong> until{" "}
          <time dateTime={d.whatsappWindow.iso}>{d.whatsappWindow.text}</time>: free-form WhatsApp
          messages can be sent until then.
        </p>
      ) : null}
      {messages.length === 0 ? (
        <EmptyState title="No messages yet">Messages to this contact appear here.</EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">The 10 newest messages, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Channel</th>
                <th scope="col">Message</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link to={`/w/${d.workspace.slug}/messages/${m.id}`}>
                      <time dateTime={m.at.iso}>{m.at.text}</time>
                    </Link>
                  </td>
                  <td>{m.channel}</td>
                  <td>{m.summary}</td>
                  <td>
                    <MessageStatusBadge status={m.status} sandbox={m.sandbox} />
                    {m.error ? <span className="muted"> {m.error}</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** What happened to the contact, newest first, fifty events a page. */
export function TimelineSection({ d, page }: { d: ContactPageData; page: string }) {
  return (
    <section className="admin-section" aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <FormErrors errors={d.timelineError ? [d.timelineError] : undefined} />
      {d.timeline.length === 0 ? (
        <EmptyState title="Nothing yet">
          Consent changes, edits and messages appear here.
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Timeline, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What happened</th>
              </tr>
            </thead>
            <tbody>
              {d.timeline.map((e) => (
                <tr key={e.id}>
                  <td>
                    <time dateTime={e.at.iso}>{e.at.text}</time>
                  </td>
                  <td>{e.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d.timelinePaged || d.timelineNext ? (
        <nav className="pager" aria-label="Timeline pages">
          {d.timelinePaged ? <Link to={page}>Newest</Link> : <span />}
          {d.timelineNext ? (
            <Link to={`${page}?events=${encodeURIComponent(d.timelineNext)}`} rel="next">
              Older
            </Link>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
}
