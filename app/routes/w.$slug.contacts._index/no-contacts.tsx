import { ButtonLink } from "~/components/ui/button";
import { EmptyState } from "~/components/ui/layout";

/** The list when it is empty: nothing matches the search, or there are no contacts yet. */
export function NoContacts({
  searching,
  canWrite,
  base,
}: {
  searching: boolean;
  canWrite: boolean;
  base: string;
}) {
  return searching ? (
    <EmptyState title="No contacts match">
      Searches match the start of a name, email address or phone number. Try fewer letters or other
      filters.
    </EmptyState>
  ) : (
    <EmptyState
      title="No contacts yet"
      action={
        canWrite ? (
          <p>
            <ButtonLink to={`${base}/import`} variant="primary">
              Import a CSV file
            </ButtonLink>{" "}
            <ButtonLink to={`${base}/new`}>Add one by hand</ButtonLink>
          </p>
        ) : null
      }
    >
      Contacts are the people you message. Import them from a spreadsheet or add them one by one.
    </EmptyState>
  );
}
