import { Form, Link, useFetcher, useSubmit } from "@remix-run/react";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";

/**
 * The segment builder: nested AND/OR groups of conditions, as one form. It works without
 * JavaScript: every button is a submit button whose `intent` says what to do
 * ("add-condition:r-1", "add-group:r", "remove:r-0-2", "update"), and every post carries the
 * whole tree in structured field names (r.op, r-0.field, r-0.op, r-0.value, ...), so the server
 * rebuilds it, applies the intent and renders the page again. With JavaScript, changing what a
 * condition filters on re-renders at once, and a live count follows every edit (a fetcher
 * posting the same fields to the count endpoint).
 *
 * The page passes everything as plain data (the tree, the choices, the messages); this
 * component imports nothing from the server.
 */

export interface BuilderOption {
  value: string;
  label: string;
}

export interface BuilderCondition {
  kind: "condition";
  field: string;
  op: string;
  value: string;
  days: string;
  date: string;
  channel: string;
  tag: string;
  list: string;
  country: string;
  event: string;
}

export interface BuilderGroup {
  kind: "group";
  op: string;
  children: (BuilderCondition | BuilderGroup)[];
}

export interface BuilderChoices {
  fields: BuilderOption[];
  /** Operators offered for each field value. */
  operators: Record<string, BuilderOption[]>;
  /** Operators that take a value, days or a date. */
  valueOps: string[];
  /** "attribute:<key>" -> the attribute's type and, for choices, its options. */
  attributes: Record<string, { type: string; options: string[] }>;
  tags: BuilderOption[];
  lists: BuilderOption[];
  channels: BuilderOption[];
  countries: BuilderOption[];
  events: BuilderOption[];
  maxDepth: number;
}

function Select({
  name,
  label,
  options,
  value,
  onChange,
}: {
  name: string;
  label: string;
  options: BuilderOption[];
  value: string;
  onChange?: () => void;
}) {
  const known = options.some((o) => o.value === value);
  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      <select id={name} name={name} defaultValue={value} onChange={onChange}>
        {known || !value ? null : <option value={value}>{value}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

function Input({
  name,
  label,
  type = "text",
  value,
  hint,
}: {
  name: string;
  label: string;
  type?: string;
  value: string;
  hint?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      <input
        id={name}
        name={name}
        type={type}
        defaultValue={value}
        step={type === "number" ? "any" : undefined}
        min={name.endsWith(".days") ? 1 : undefined}
        inputMode={type === "number" ? "decimal" : undefined}
        aria-describedby={hint ? `${name}-hint` : undefined}
        autoComplete="off"
      />
      {hint ? (
        <p id={`${name}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function ConditionInputs({
  id,
  node,
  choices,
}: {
  id: string;
  node: BuilderCondition;
  choices: BuilderChoices;
}) {
  const field = node.field;
  const op = node.op;
  if (field.startsWith("attribute:")) {
    const attribute = choices.attributes[field];
    if (op === "within_days") {
      return <Input name={`${id}.days`} label="Days" type="number" value={node.days} />;
    }
    if (!choices.valueOps.includes(op) || !attribute) return null;
    if (attribute.type === "choice") {
      return (
        <Select
          name={`${id}.value`}
          label="Value"
          value={node.value}
          options={attribute.options.map((o) => ({ value: o, label: o }))}
        />
      );
    }
    const type =
      attribute.type === "number" ? "number" : attribute.type === "date" ? "date" : "text";
    return <Input name={`${id}.value`} label="Value" type={type} value={node.value} />;
  }
  switch (field) {
    case "tag":
      return choices.tags.length ? (
        <Select name={`${id}.tag`} label="Tag" value={node.tag} options={choices.tags} />
      ) : (
        <p className="field-hint">There are no tags yet.</p>
      );
    case "list":
      return choices.lists.length ? (
        <Select name={`${id}.list`} label="List" value={node.list} options={choices.lists} />
      ) : (
        <p className="field-hint">There are no lists yet.</p>
      );
    case "created":
      return op === "within_days" ? (
        <Input name={`${id}.days`} label="Days" type="number" value={node.days} />
      ) : (
        <Input name={`${id}.date`} label="Date" type="date" value={node.date} />
      );
    case "country":
      return (
        <Select
          name={`${id}.country`}
          label="Country"
          value={node.country}
          options={choices.countries}
        />
      );
    case "engagement":
      return (
        <>
          <Input name={`${id}.days`} label="Days" type="number" value={node.days} />
          <Select
            name={`${id}.channel`}
            label="On"
            value={node.channel}
            options={[{ value: "", label: "Any channel" }, ...choices.channels]}
          />
        </>
      );
    default:
      return null;
  }
}

function Errors({ id, errors }: { id: string; errors: Record<string, string[]> }) {
  const messages = errors[id];
  if (!messages?.length) return null;
  return (
    <p className="field-error" id={`${id}-errors`} role="alert">
      {messages.join(" ")}
    </p>
  );
}

function Condition({
  id,
  node,
  choices,
  errors,
  canEdit,
  onStructureChange,
}: {
  id: string;
  node: BuilderCondition;
  choices: BuilderChoices;
  errors: Record<string, string[]>;
  canEdit: boolean;
  onStructureChange: () => void;
}) {
  const operators = choices.operators[node.field] ?? [];
  return (
    <li className="segment-condition">
      <div className="filters" aria-describedby={errors[id] ? `${id}-errors` : undefined}>
        <Select
          name={`${id}.field`}
          label="Filter on"
          value={node.field}
          options={choices.fields}
          onChange={onStructureChange}
        />
        {node.field === "consent" ? (
          <Select
            name={`${id}.channel`}
            label="Channel"
            value={node.channel}
            options={choices.channels}
          />
        ) : null}
        {node.field === "engagement" ? (
          <Select name={`${id}.event`} label="Has" value={node.event} options={choices.events} />
        ) : null}
        <Select
          name={`${id}.op`}
          label="Comparison"
          value={node.op}
          options={operators}
          onChange={onStructureChange}
        />
        <ConditionInputs id={id} node={node} choices={choices} />
        {canEdit ? (
          <div className="filters-actions">
            <button
              type="submit"
              name="intent"
              value={`remove:${id}`}
              className="btn btn-ghost"
              formNoValidate
            >
              Remove<span className="visually-hidden"> this condition</span>
            </button>
          </div>
        ) : null}
      </div>
      <Errors id={id} errors={errors} />
    </li>
  );
}

function Group({
  id,
  node,
  choices,
  errors,
  canEdit,
  onStructureChange,
}: {
  id: string;
  node: BuilderGroup;
  choices: BuilderChoices;
  errors: Record<string, string[]>;
  canEdit: boolean;
  onStructureChange: () => void;
}) {
  const depth = id.split("-").length;
  const isRoot = id === "r";
  return (
    <fieldset
      className="segment-group card"
      style={isRoot ? undefined : { marginLeft: "var(--space-4)", marginTop: "var(--space-2)" }}
    >
      <legend className="visually-hidden">{isRoot ? "Conditions" : "Group of conditions"}</legend>
      {isRoot ? null : <input type="hidden" name={`${id}.field`} value="group" />}
      <div className="inline-form">
        <label htmlFor={`${id}.op`}>Match</label>
        <select id={`${id}.op`} name={`${id}.op`} defaultValue={node.op}>
          <option value="and">all of these (AND)</option>
          <option value="or">any of these (OR)</option>
        </select>
      </div>
      <Errors id={id} errors={errors} />
      {node.children.length === 0 ? (
        <p className="muted">
          {isRoot
            ? "No conditions yet: this segment matches every contact."
            : "This group is empty and has no effect."}
        </p>
      ) : (
        <ul className="segment-conditions" style={{ listStyle: "none", padding: 0 }}>
          {node.children.map((child, i) =>
            child.kind === "group" ? (
              <li key={`${id}-${i}`}>
                <Group
                  id={`${id}-${i}`}
                  node={child}
                  choices={choices}
                  errors={errors}
                  canEdit={canEdit}
                  onStructureChange={onStructureChange}
                />
              </li>
            ) : (
              <Condition
                key={`${id}-${i}`}
                id={`${id}-${i}`}
                node={child}
                choices={choices}
                errors={errors}
                canEdit={canEdit}
                onStructureChange={onStructureChange}
              />
            ),
          )}
        </ul>
      )}
      {canEdit ? (
        <div className="inline-form">
          <button
            type="submit"
            name="intent"
            value={`add-condition:${id}`}
            className="btn btn-secondary"
            formNoValidate
          >
            Add condition<span className="visually-hidden">{isRoot ? "" : " to this group"}</span>
          </button>
          {depth < choices.maxDepth ? (
            <button
              type="submit"
              name="intent"
              value={`add-group:${id}`}
              className="btn btn-secondary"
              formNoValidate
            >
              Add group
            </button>
          ) : null}
          {isRoot ? null : (
            <button
              type="submit"
              name="intent"
              value={`remove:${id}`}
              className="btn btn-ghost"
              formNoValidate
            >
              Remove group
            </button>
          )}
        </div>
      ) : null}
    </fieldset>
  );
}

export interface SegmentBuilderProps {
  draft: BuilderGroup;
  choices: BuilderChoices;
  errors: Record<string, string[]>;
  /** Changes when the server sends a new tree, so the inputs take its values. */
  revision: string;
  canEdit: boolean;
  /** Resubmits the form with intent=update (JS only: a changed field needs new inputs). */
  onStructureChange: () => void;
}

export function SegmentBuilder(props: SegmentBuilderProps) {
  return (
    <div key={props.revision} className="segment-builder">
      <Group
        id="r"
        node={props.draft}
        choices={props.choices}
        errors={props.errors}
        canEdit={props.canEdit}
        onStructureChange={props.onStructureChange}
      />
    </div>
  );
}

/**
 * The count as the server rendered it, replaced by a live count once JavaScript runs: every
 * edit in `form` posts its fields to `countUrl` (debounced) and shows the answer.
 */
export function LiveCount({
  formId,
  countUrl,
  initial,
  initialMessage,
  revision,
}: {
  formId: string;
  countUrl: string;
  initial: number | null;
  initialMessage: string | null;
  /** The server's answer this count belongs to; a newer answer replaces a live count. */
  revision: string;
}) {
  const fetcher = useFetcher<{ count?: number; message?: string }>();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [liveFor, setLiveFor] = useState<string | null>(null);
  const { submit } = fetcher;

  const refresh = useCallback(() => {
    const form = document.getElementById(formId);
    if (!(form instanceof HTMLFormElement)) return;
    const data = new FormData(form);
    data.delete("intent");
    submit(data, { method: "post", action: countUrl });
    setLiveFor(revision);
  }, [formId, countUrl, submit, revision]);

  useEffect(() => {
    const form = document.getElementById(formId);
    if (!form) return;
    const onEdit = () => {
      clearTimeout(timer.current);
      timer.current = setTimeout(refresh, 250);
    };
    form.addEventListener("input", onEdit);
    form.addEventListener("change", onEdit);
    return () => {
      form.removeEventListener("input", onEdit);
      form.removeEventListener("change", onEdit);
      clearTimeout(timer.current);
    };
  }, [formId, refresh]);

  const data = liveFor === revision ? fetcher.data : undefined;
  const count = data ? (data.count ?? null) : initial;
  const message = data ? (data.message ?? null) : initialMessage;
  let text: ReactNode;
  if (message) text = message;
  else if (count === null) text = "Not counted yet.";
  else
    text = `${count.toLocaleString("en-US")} ${count === 1 ? "contact matches" : "contacts match"}`;
  return (
    <p className="segment-count" aria-live="polite">
      <strong data-testid="segment-count">{text}</strong>
      {fetcher.state !== "idle" ? <span className="muted"> (counting…)</span> : null}
    </p>
  );
}

export interface SegmentPreviewItem {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  created: string;
}

export interface SegmentFormProps {
  formId: string;
  /** Where the form posts (the page itself). */
  action: string;
  countUrl: string;
  /** Base URL of a contact's page, e.g. /w/acme/contacts. */
  contactsUrl: string;
  name: string;
  nameErrors?: string[];
  formError?: string | null;
  draft: BuilderGroup;
  choices: BuilderChoices;
  errors: Record<string, string[]>;
  message: string | null;
  count: number | null;
  preview: SegmentPreviewItem[];
  revision: string;
  /** Shows the name field and the Save button (contacts:write). Anyone may try conditions. */
  canSave: boolean;
  submitLabel: string;
  children?: ReactNode;
}

/** The whole builder form: name, conditions, live count, save, and a preview of matches. */
export function SegmentForm(props: SegmentFormProps) {
  const { formId, action } = props;
  const submit = useSubmit();
  const onStructureChange = useCallback(() => {
    const form = document.getElementById(formId);
    if (!(form instanceof HTMLFormElement)) return;
    const data = new FormData(form);
    data.set("intent", "update");
    submit(data, { method: "post", action, replace: true, preventScrollReset: true });
  }, [formId, action, submit]);
  const nameErrorId = props.nameErrors?.length ? `${formId}-name-error` : undefined;
  return (
    <>
      <Form method="post" action={action} id={formId} noValidate preventScrollReset>
        {/* Pressing Enter in a field updates the count instead of pressing the first button. */}
        <button
          type="submit"
          name="intent"
          value="update"
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
        >
          Update
        </button>
        {props.formError ? (
          <div className="alert alert-error" role="alert">
            <div className="alert-body">{props.formError}</div>
          </div>
        ) : null}
        {props.canSave ? (
          <div className="field">
            <label htmlFor={`${formId}-name`}>Segment name</label>
            <input
              id={`${formId}-name`}
              name="name"
              defaultValue={props.name}
              maxLength={100}
              autoComplete="off"
              aria-invalid={nameErrorId ? true : undefined}
              aria-describedby={nameErrorId}
            />
            {nameErrorId ? (
              <p id={nameErrorId} className="field-error">
                {props.nameErrors!.join(" ")}
              </p>
            ) : null}
          </div>
        ) : (
          <input type="hidden" name="name" value={props.name} />
        )}
        {props.message && !props.formError ? (
          <div className="alert alert-error" role="alert">
            <div className="alert-body">{props.message}</div>
          </div>
        ) : null}
        <noscript>
          <p className="field-hint">
            Changed what a condition filters on? Press “Update count” to see its choices.
          </p>
        </noscript>
        <SegmentBuilder
          draft={props.draft}
          choices={props.choices}
          errors={props.errors}
          revision={props.revision}
          canEdit
          onStructureChange={onStructureChange}
        />
        <LiveCount
          formId={formId}
          countUrl={props.countUrl}
          initial={props.count}
          initialMessage={props.count === null ? props.message : null}
          revision={props.revision}
        />
        <div className="inline-form">
          <button type="submit" name="intent" value="update" className="btn btn-secondary">
            Update count
          </button>
          {props.canSave ? (
            <button type="submit" name="intent" value="save" className="btn btn-primary">
              {props.submitLabel}
            </button>
          ) : null}
          {props.children}
        </div>
      </Form>
      {props.preview.length > 0 ? (
        <section className="admin-section" aria-labelledby={`${formId}-preview`}>
          <h2 id={`${formId}-preview`}>Newest matching contacts</h2>
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Phone</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {props.preview.map((row) => (
                  <tr key={row.id}>
                    <th scope="row">
                      <Link to={`${props.contactsUrl}/${row.id}`}>{row.name || "(no name)"}</Link>
                    </th>
                    <td>{row.email ?? ""}</td>
                    <td>{row.phone ?? ""}</td>
                    <td>{row.created}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </>
  );
}
