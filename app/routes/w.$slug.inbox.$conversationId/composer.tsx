import { Form, useNavigation } from "@remix-run/react";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { resultFor, resultMessages, submittedOf, type FormResult } from "~/lib/form-result";
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
  const busy = useNavigation().state === "submitting";
  if (!d.canReply || d.window.state === "blocked") return null;
  const reply = resultFor(result, "reply");
  const template = resultFor(result, "template");
  if (d.window.state === "template-only") {
    return (
      <section className="inbox-composer" aria-labelledby="composer-heading">
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
  const typed = submittedOf(reply);
  return (
    <section className="inbox-composer" aria-labelledby="composer-heading">
      <h2 id="composer-heading" className="visually-hidden">
        Reply
      </h2>
      <Form method="post">
        <input type="hidden" name="intent" value="reply" />
        <FormErrors errors={resultMessages(reply)} />
        {d.conversation.channel === "email" ? (
          <div className="field">
            <label htmlFor="reply-subject">Subject</label>
            <input
              id="reply-subject"
              name="subject"
              defaultValue={typeof typed.subject === "string" ? typed.subject : d.emailSubject}
            />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="reply-text">Reply</label>
          <textarea
            id="reply-text"
            name="text"
            rows={4}
            defaultValue={typeof typed.text === "string" ? typed.text : ""}
          />
        </div>
        <div className="inbox-composer-actions">
          <Button disabled={busy}>Send</Button>
        </div>
      </Form>
    </section>
  );
}
