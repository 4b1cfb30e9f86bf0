import { Form, Link, useNavigation } from "@remix-run/react";
import { Checkbox, FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { resultMessages, type FormResult } from "~/lib/form-result";

export interface ForYouRow {
  id: number;
  conversationId: number;
  kind: "mention" | "assigned";
  contact: string;
  actor: string | null;
  at: { iso: string; text: string; full: string };
}

/** The member's unread mentions and assignments; opening the conversation reads them. */
export function ForYou({ slug, items }: { slug: string; items: ForYouRow[] }) {
  return (
    <section className="card inbox-for-you" aria-labelledby="for-you-heading">
      <h2 id="for-you-heading" className="card-title">
        For you
      </h2>
      {items.length === 0 ? (
        <p className="muted">Nothing new: mentions and conversations assigned to you show here.</p>
      ) : (
        <ul>
          {items.map((n) => (
            <li key={n.id}>
              <Link to={`/w/${slug}/inbox/${n.conversationId}`}>
                {n.kind === "mention"
                  ? `${n.actor ?? "Someone"} mentioned you on ${n.contact}`
                  : `${n.actor ? `${n.actor} assigned you` : "Assigned to you:"} ${n.contact}`}
              </Link>{" "}
              <time dateTime={n.at.iso} title={n.at.full} className="muted">
                {n.at.text}
              </time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Whether auto-assignment may give this member new conversations. */
export function Availability({
  available,
  result,
}: {
  available: boolean;
  result: FormResult<unknown> | undefined;
}) {
  const busy = useNavigation().state === "submitting";
  return (
    <Form method="post" className="inline-form inbox-availability">
      <input type="hidden" name="intent" value="availability" />
      <FormErrors errors={resultMessages(result)} />
      <Checkbox
        name="available"
        label="Available for new conversations"
        defaultChecked={available}
      />
      <Button variant="secondary" disabled={busy}>
        Save availability
      </Button>
    </Form>
  );
}
