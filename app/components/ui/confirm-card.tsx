import { Form } from "@remix-run/react";
import type { ReactNode } from "react";
import { Button, ButtonLink } from "./button";

/**
 * The second step of a destructive action: what will happen, in the page's danger zone, with
 * the button that does it and a way back. The page shows it when its URL names the thing (e.g.
 * ?delete=12), so it works without JavaScript.
 */
export function ConfirmCard({
  id,
  title,
  children,
  action,
  intent,
  fields = {},
  confirmLabel,
  cancelTo,
  busy,
  encType,
}: {
  /** The heading's id (unique on the page). */
  id: string;
  title: ReactNode;
  /** What happens, plainly. */
  children: ReactNode;
  action: string;
  intent: string;
  /** Hidden fields naming the thing. */
  fields?: Record<string, string | number>;
  confirmLabel: string;
  cancelTo: string;
  busy: boolean;
  encType?: "multipart/form-data";
}) {
  return (
    <section className="card danger-zone" aria-labelledby={id}>
      <h2 id={id} className="card-title">
        {title}
      </h2>
      {children}
      <Form method="post" action={action} encType={encType} className="inline-form">
        <input type="hidden" name="intent" value={intent} />
        {Object.entries(fields).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <Button variant="danger" type="submit" disabled={busy}>
          {confirmLabel}
        </Button>
        <ButtonLink to={cancelTo}>Cancel</ButtonLink>
      </Form>
    </section>
  );
}
