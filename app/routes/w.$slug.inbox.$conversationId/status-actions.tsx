import { Form, useNavigation } from "@remix-run/react";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { resultFor, resultMessages, type FormResult } from "~/lib/form-result";
import type { ConversationPageData } from "./route";
import { SNOOZE_CHOICES } from "./schemas";

/** Resolve / Reopen / Mark pending / Snooze (for a while, or until the customer replies). */
export function StatusActions({
  d,
  result,
}: {
  d: ConversationPageData;
  result: FormResult<unknown> | undefined;
}) {
  const busy = useNavigation().state === "submitting";
  if (!d.canReply) return null;
  const status = d.conversation.status;
  const button = (to: string, label: string, variant: "primary" | "secondary" = "secondary") => (
    <Form method="post" className="inline-form">
      <input type="hidden" name="intent" value="status" />
      <input type="hidden" name="status" value={to} />
      <Button variant={variant} disabled={busy}>
        {label}
      </Button>
    </Form>
  );
  return (
    <section className="inbox-status" aria-label="Status">
      <FormErrors errors={resultMessages(resultFor(result, "status"))} />
      <div className="inbox-status-buttons">
        {status !== "resolved"
          ? button("resolved", "Resolve", "primary")
          : button("open", "Reopen")}
        {status !== "pending" && status !== "resolved" ? button("pending", "Mark pending") : null}
        {status === "pending" || status === "snoozed" ? button("open", "Mark open") : null}
      </div>
      {status !== "resolved" ? (
        <Form method="post" className="inline-form inbox-snooze">
          <input type="hidden" name="intent" value="status" />
          <input type="hidden" name="status" value="snoozed" />
          <label htmlFor="snooze">Snooze</label>
          <select id="snooze" name="snooze" defaultValue="4h">
            {Object.entries(SNOOZE_CHOICES).map(([value, c]) => (
              <option key={value} value={value}>
                {c.label}
              </option>
            ))}
          </select>
          <Button variant="secondary" disabled={busy}>
            Snooze
          </Button>
        </Form>
      ) : null}
    </section>
  );
}
