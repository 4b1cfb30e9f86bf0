import { Form } from "@remix-run/react";
import type { RefObject } from "react";
import { Checkbox } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import type { DeleteConfirmation } from "./bulk.server";
import { plural } from "./links";

/** The second step of a bulk deletion: how many will go, and the post that deletes them. */
export function DeleteConfirmationCard({
  confirm,
  headingRef,
  busy,
  cancel,
}: {
  confirm: DeleteConfirmation;
  headingRef: RefObject<HTMLHeadingElement>;
  busy: boolean;
  cancel: string;
}) {
  return (
    <section className="card danger-zone" aria-labelledby="bulk-delete-heading">
      <h2 id="bulk-delete-heading" className="card-title" tabIndex={-1} ref={headingRef}>
        Delete {plural(confirm.count)}?
      </h2>
      {confirm.changed ? (
        <p>
          <strong>The number of matching contacts has changed since you asked.</strong> Check it and
          confirm again.
        </p>
      ) : null}
      <p>
        Their consent records, tags, list memberships and timelines are deleted for good. This
        can&apos;t be undone.
      </p>
      <Form method="post">
        <input type="hidden" name="intent" value="delete" />
        <input type="hidden" name="confirm" value="yes" />
        <input type="hidden" name="expected" value={confirm.count} />
        <input type="hidden" name="query" value={confirm.query} />
        {confirm.scope === "matching" ? (
          <input type="hidden" name="scope" value="matching" />
        ) : (
          confirm.ids.map((id: number) => <input key={id} type="hidden" name="ids" value={id} />)
        )}
        <Checkbox
          name="erase"
          defaultChecked={confirm.erase}
          label="These are erasure requests: keep their email addresses and phone numbers on the suppression list (as unreadable hashes) so they are never imported or messaged again"
        />
        <div className="filters-actions">
          <Button variant="danger" type="submit" disabled={busy}>
            Delete {plural(confirm.count)}
          </Button>
          <ButtonLink to={cancel}>Cancel</ButtonLink>
        </div>
      </Form>
    </section>
  );
}
