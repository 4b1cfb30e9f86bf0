import { useNavigation } from "@remix-run/react";
import { ConversationPresence } from "~/components/inbox/presence";
import { useInboxEvents } from "~/components/inbox/use-inbox-events";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { resultFor, resultMessages, type FormResult } from "~/lib/form-result";
import { Form } from "@remix-run/react";
import { ReplyForm } from "./reply-form";
import type { ConversationPageData } from "./route";

/**
 * Free text while it is allowed; a template picker (parameters filled in from the contact, the
 * cost shown) once WhatsApp only takes templates; nothing when replies are blocked.
 */
export function Composer({
  d,
  result,
}: {
  d: ConversationPageData;
  result: FormResult<unknown> | undefined;
}) {
  const live = useInboxEvents({
    slug: d.workspace.slug,
    viewerId: d.composer.viewerId,
    conversationId: d.conversation.id,
    canReply: d.canReply,
  });
  const busy = useNavigation().state === "submitting";
  if (!d.canReply || d.window.state === "blocked") return <ConversationPresence lock={live.lock} />;
  const reply = resultFor(result, "reply") ?? resultFor(result, "insert");
  const template = resultFor(result, "template");
  if (d.window.state === "template-only") {
    return (
      <section className="inbox-composer" aria-labelledby="composer-heading">
        <ConversationPresence lock={live.lock} />
        <h2 id="composer-heading">Send an approved template</h2>
        <FormErrors errors={resultMessages(template)} />
        {d.templates.length === 0 ? (
          <p className="muted">
            There is no approved WhatsApp template yet. Templates are written and submitted to Meta
            on the Templates page.
          </p>
        ) : (
          <ul className="inbox-templates">
            {d.templates.map((t) => (
              <li key={t.id}>
                <Form method="post" className="inbox-template">
                  <input type="hidden" name="intent" value="template" />
                  <input type="hidden" name="templateName" value={t.name} />
                  <input type="hidden" name="language" value={t.language} />
                  <p>
                    <strong>{t.name}</strong> <span className="badge">{t.language}</span>{" "}
                    <span className="muted">
                      {t.category ? `${t.category.toLowerCase()} · ` : ""}
                      {t.cost} per message
                    </span>
                  </p>
                  <div className="field">
                    <label htmlFor={`params-${t.id}`}>Parameters, one per line</label>
                    <textarea
                      id={`params-${t.id}`}
                      name="params"
                      rows={Math.max(2, t.params.split("\n").length)}
                      defaultValue={t.params}
                    />
                  </div>
                  <Button disabled={busy}>Send template</Button>
                </Form>
              </li>
            ))}
          </ul>
        )}
      </section>
    );
  }
  return <ReplyForm d={d} reply={reply} live={live} busy={busy} />;
}
