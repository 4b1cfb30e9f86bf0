import type { SubmissionResult } from "@conform-to/react";
import { Form, useLocation, useNavigation } from "@remix-run/react";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";

/**
 * "Try the inbox": shown while WhatsApp runs in the sandbox, so a workspace can see a customer
 * message arrive without a WhatsApp account. Says plainly that the message is simulated.
 */
export function TryInbox({
  action,
  result,
}: {
  action: string;
  result: SubmissionResult<string[]> | undefined;
}) {
  const busy = useNavigation().formData?.get("intent") === "simulate";
  const errors = result?.error ?? {};
  // A new location after each accepted message: the form starts empty for the next one.
  const { key } = useLocation();
  return (
    <Card title="Try the inbox">
      <p className="muted">
        WhatsApp is in sandbox mode (no WhatsApp account connected), so you can play a customer
        writing in. The message is simulated: nothing is sent to or from a real phone. It arrives
        like a real WhatsApp message: the contact is created and the conversation opens here.
      </p>
      <Form key={key} method="post" action={action} aria-label="Try the inbox">
        <input type="hidden" name="intent" value="simulate" />
        <FormErrors errors={errors[""] ?? undefined} />
        <Field
          label="Customer phone"
          name="phone"
          type="tel"
          autoComplete="off"
          placeholder="98765 43210"
          defaultValue={(result?.initialValue?.phone as string | undefined) ?? ""}
          errors={errors.phone ?? undefined}
        />
        <Field
          label="Customer name"
          name="name"
          autoComplete="off"
          maxLength={100}
          defaultValue={(result?.initialValue?.name as string | undefined) ?? ""}
          errors={errors.name ?? undefined}
        />
        <div className="field">
          <label htmlFor="try-message">Message</label>
          <textarea
            id="try-message"
            name="message"
            rows={3}
            maxLength={4096}
            aria-invalid={errors.message ? true : undefined}
            aria-describedby={errors.message ? "try-message-error" : undefined}
            defaultValue={(result?.initialValue?.message as string | undefined) ?? ""}
          />
          {errors.message ? (
            <p id="try-message-error" className="field-error">
              {errors.message.join(" ")}
            </p>
          ) : null}
        </div>
        <div className="filters-actions">
          <Button type="submit" variant="secondary" disabled={busy}>
            Simulate customer message
          </Button>
        </div>
      </Form>
    </Card>
  );
}
