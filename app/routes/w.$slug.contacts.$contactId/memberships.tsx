import { Form, Link } from "@remix-run/react";
import type { ReactNode } from "react";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { resultFor, resultMessages, type FormResult } from "~/lib/form-result";
import type { ContactPageData } from "./route";

interface MembershipProps {
  d: ContactPageData;
  base: string;
  page: string;
  busy: boolean;
  result: FormResult | undefined;
}

/** A "Remove" button for one tag or list; `children` finish its name for screen readers. */
function RemoveForm({
  page,
  busy,
  intent,
  field,
  id,
  children,
}: {
  page: string;
  busy: boolean;
  intent: "remove-tag" | "remove-list";
  field: "tagId" | "listId";
  id: number;
  children: ReactNode;
}) {
  return (
    <Form method="post" action={page} className="inline-form">
      <input type="hidden" name="intent" value={intent} />
      <input type="hidden" name={field} value={id} />
      <Button variant="ghost" type="submit" disabled={busy}>
        Remove<span className="visually-hidden"> {children}</span>
      </Button>
    </Form>
  );
}

/** The contact's tags, with removing and adding one. */
export function TagsSection({ d, base, page, busy, result }: MembershipProps) {
  return (
    <section className="admin-section" aria-labelledby="tags-heading">
      <h2 id="tags-heading">Tags</h2>
      {d.tags.length === 0 ? <p className="muted">No tags.</p> : null}
      <ul className="checklist">
        {d.tags.map((t) => (
          <li key={t.id}>
            <Link to={`${base}?tag=${t.id}`}>{t.name}</Link>
            {d.canWrite ? (
              <RemoveForm page={page} busy={busy} intent="remove-tag" field="tagId" id={t.id}>
                tag {t.name}
              </RemoveForm>
            ) : null}
          </li>
        ))}
      </ul>
      <FormErrors errors={[...resultMessages(resultFor(result, "remove-tag"))]} />
      {d.canWrite ? (
        <Form method="post" action={page} className="inline-form">
          <input type="hidden" name="intent" value="add-tag" />
          <label htmlFor="new-tag">Add a tag</label>
          <input
            id="new-tag"
            name="name"
            type="text"
            maxLength={60}
            list="tag-names"
            autoComplete="off"
          />
          <datalist id="tag-names">
            {d.tagNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          <Button variant="secondary" type="submit" disabled={busy}>
            Add tag
          </Button>
        </Form>
      ) : null}
      <FormErrors errors={resultMessages(resultFor(result, "add-tag"))} />
    </section>
  );
}

/** The lists the contact is on, with removing and adding. */
export function ListsSection({ d, base, page, busy, result }: MembershipProps) {
  return (
    <section className="admin-section" aria-labelledby="lists-heading">
      <h2 id="lists-heading">Lists</h2>
      {d.lists.length === 0 ? <p className="muted">Not on any list.</p> : null}
      <ul className="checklist">
        {d.lists.map((l) => (
          <li key={l.id}>
            <Link to={`${base}?list=${l.id}`}>{l.name}</Link>{" "}
            <span className="muted">
              since <time dateTime={l.added.iso}>{l.added.text}</time>
            </span>
            {d.canWrite ? (
              <RemoveForm page={page} busy={busy} intent="remove-list" field="listId" id={l.id}>
                from {l.name}
              </RemoveForm>
            ) : null}
          </li>
        ))}
      </ul>
      <FormErrors
        errors={[
          ...resultMessages(resultFor(result, "remove-list")),
          ...resultMessages(resultFor(result, "add-list")),
        ]}
      />
      {d.canWrite ? (
        d.otherLists.length ? (
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="add-list" />
            <label htmlFor="add-list">Add to list</label>
            <select id="add-list" name="listId">
              {d.otherLists.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
            </select>
            <Button variant="secondary" type="submit" disabled={busy}>
              Add
            </Button>
          </Form>
        ) : (
          <p className="muted">
            <Link to={`${base}/lists`}>Create a list</Link> to add this contact to it.
          </p>
        )
      ) : null}
    </section>
  );
}
