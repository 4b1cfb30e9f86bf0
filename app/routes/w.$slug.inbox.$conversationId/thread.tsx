import { Link } from "@remix-run/react";
import { MessageStatusBadge } from "~/components/message-status";
import { EmptyState } from "~/components/ui/layout";
import type { ConversationPageData } from "./route";

/** The conversation, oldest first: the customer on the left, the team on the right. */
export function Thread({ d }: { d: ConversationPageData }) {
  const base = `/w/${d.workspace.slug}`;
  return (
    <section className="inbox-thread" aria-labelledby="thread-heading">
      <h2 id="thread-heading" className="visually-hidden">
        Messages
      </h2>
      {d.thread.before ? (
        <p>
          <Link to={`?before=${encodeURIComponent(d.thread.before)}`}>Older messages</Link>
        </p>
      ) : null}
      {d.thread.items.length === 0 ? (
        <EmptyState title="No messages yet" />
      ) : (
        <ol className="inbox-messages">
          {d.thread.items.map((item) => {
            const time = (
              <time dateTime={item.at.iso} title={item.at.full}>
                {item.at.text}
              </time>
            );
            switch (item.type) {
              case "in":
                return (
                  <li key={item.key} className="inbox-msg inbox-msg-in">
                    {item.campaign ? (
                      <p className="inbox-msg-context">
                        Reply to campaign{" "}
                        <Link to={`${base}/campaigns/${item.campaign.id}`}>
                          {item.campaign.name}
                        </Link>
                      </p>
                    ) : null}
                    {item.automated ? (
                      <p className="inbox-msg-context">
                        Automatic reply (out of office or a mailing list): nothing was sent back
                      </p>
                    ) : null}
                    {item.attachment?.kind === "image" ? (
                      <a href={item.attachment.url} className="inbox-msg-image">
                        <img src={item.attachment.url} alt={`Image: ${item.attachment.filename}`} />
                      </a>
                    ) : item.attachment ? (
                      <p>
                        <a href={item.attachment.url}>{item.attachment.filename}</a>
                      </p>
                    ) : null}
                    <p className="inbox-msg-text">{item.text}</p>
                    <p className="inbox-msg-meta">{time}</p>
                  </li>
                );
              case "out":
                return (
                  <li key={item.key} className="inbox-msg inbox-msg-out">
                    {item.template ? (
                      <p className="inbox-msg-context">Template {item.template}</p>
                    ) : item.campaign ? (
                      <p className="inbox-msg-context">Campaign {item.campaign.name}</p>
                    ) : null}
                    <p className="inbox-msg-text">{item.text || "—"}</p>
                    <p className="inbox-msg-meta">
                      {item.author ? `${item.author} · ` : null}
                      {time} <MessageStatusBadge status={item.status} />
                    </p>
                    {item.error ? <p className="field-error">{item.error}</p> : null}
                  </li>
                );
              case "note":
                return (
                  <li key={item.key} className="inbox-msg inbox-note">
                    <p className="inbox-msg-context">
                      Private note{item.actor ? ` · ${item.actor}` : ""}
                    </p>
                    <p className="inbox-msg-text">{item.body}</p>
                    <p className="inbox-msg-meta">{time}</p>
                  </li>
                );
              case "event":
                return (
                  <li key={item.key} className="inbox-event muted">
                    {item.text}
                    {item.actor ? ` · ${item.actor}` : ""} · {time}
                  </li>
                );
            }
          })}
        </ol>
      )}
    </section>
  );
}
