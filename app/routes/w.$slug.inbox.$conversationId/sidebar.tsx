import { Form, useNavigation } from "@remix-run/react";
import { FormErrors, Select, TextArea } from "~/components/form";
import { Button } from "~/components/ui/button";
import { resultFor, resultMessages, type FormResult } from "~/lib/form-result";
import type { ConversationPageData } from "./route";

type Props = { d: ConversationPageData; result: FormResult<unknown> | undefined };

function errorsOf(result: FormResult<unknown> | undefined, ...intents: string[]): string[] {
  return intents.flatMap((i) => resultMessages(resultFor(result, i)));
}

/** Who has the conversation: a member, a team, or "Assign to me". */
export function AssignmentSection({ d, result }: Props) {
  const busy = useNavigation().state === "submitting";
  const c = d.conversation;
  if (!d.canReply) return null;
  const mine = c.assigneeId === d.me;
  return (
    <section className="card" aria-labelledby="assignment-heading">
      <h2 id="assignment-heading" className="card-title">
        Assignment
      </h2>
      <FormErrors errors={errorsOf(result, "assign", "assign-me", "team")} />
      {!mine ? (
        <Form method="post" className="inline-form">
          <input type="hidden" name="intent" value="assign-me" />
          <Button variant="secondary" disabled={busy}>
            Assign to me
          </Button>
        </Form>
      ) : null}
      <Form method="post" className="inbox-side-form">
        <input type="hidden" name="intent" value="assign" />
        <Select
          name="assigneeId"
          label="Assignee"
          defaultValue={c.assigneeId ?? ""}
          options={[
            { value: "", label: "Nobody" },
            ...d.sidebar.assignees.map((m) => ({ value: m.userId, label: m.name })),
          ]}
          hint={c.team ? `Members of ${c.team}.` : undefined}
        />
        <Button variant="secondary" disabled={busy}>
          Assign
        </Button>
      </Form>
      <Form method="post" className="inbox-side-form">
        <input type="hidden" name="intent" value="team" />
        <Select
          name="teamId"
          label="Team"
          defaultValue={c.teamId === null ? "" : String(c.teamId)}
          options={[
            { value: "", label: "No team" },
            ...d.sidebar.teams.map((t) => ({ value: String(t.id), label: t.name })),
          ]}
        />
        <Button variant="secondary" disabled={busy}>
          Set team
        </Button>
      </Form>
    </section>
  );
}

/** The conversation's labels, each removable, and a select to add one. */
export function LabelsSection({ d, result }: Props) {
  const busy = useNavigation().state === "submitting";
  const c = d.conversation;
  return (
    <section className="card" aria-labelledby="labels-heading">
      <h2 id="labels-heading" className="card-title">
        Labels
      </h2>
      <FormErrors errors={errorsOf(result, "label-add", "label-remove")} />
      {c.labels.length ? (
        <ul className="inbox-label-list" aria-label="Labels of this conversation">
          {c.labels.map((l) => (
            <li key={l.id}>
              <span className={`badge inbox-label inbox-label-${l.color}`}>{l.name}</span>
              {d.canReply ? (
                <Form method="post" className="inline-form">
                  <input type="hidden" name="intent" value="label-remove" />
                  <input type="hidden" name="labelId" value={l.id} />
                  <button
                    type="submit"
                    className="btn btn-ghost btn-sm"
                    aria-label={`Remove label ${l.name}`}
                    disabled={busy}
                  >
                    ×
                  </button>
                </Form>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No labels.</p>
      )}
      {d.canReply && d.sidebar.labels.length ? (
        <Form method="post" className="inbox-side-form">
          <input type="hidden" name="intent" value="label-add" />
          <Select
            name="labelId"
            label="Add label"
            options={d.sidebar.labels.map((l) => ({ value: String(l.id), label: l.name }))}
          />
          <Button variant="secondary" disabled={busy}>
            Add
          </Button>
        </Form>
      ) : null}
    </section>
  );
}

/** Notes for the team only; they show in the thread, and @name tells that member. */
export function NotesSection({ d, result }: Props) {
  const busy = useNavigation().state === "submitting";
  if (!d.canReply) return null;
  const noteResult = resultFor(result, "note");
  return (
    <section className="card" aria-labelledby="notes-heading">
      <h2 id="notes-heading" className="card-title">
        Private notes
      </h2>
      <Form method="post" className="inbox-side-form" key={noteResult ? "retry" : "note"}>
        <input type="hidden" name="intent" value="note" />
        <TextArea
          name="body"
          label="Private note"
          rows={3}
          maxLength={5000}
          hint="Only your team sees it. Write @name to tell a member."
          errors={resultMessages(noteResult)}
          defaultValue={
            typeof noteResult?.initialValue?.body === "string"
              ? noteResult.initialValue.body
              : undefined
          }
        />
        <Button variant="secondary" disabled={busy}>
          Add note
        </Button>
      </Form>
    </section>
  );
}
