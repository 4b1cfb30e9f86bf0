import { Link } from "@remix-run/react";
import { useId } from "react";
import { Field } from "./ui/field";

/** What the contact forms need to know about a custom attribute. */
export interface AttributeFieldDefinition {
  key: string;
  label: string;
  type: "text" | "number" | "date" | "boolean" | "choice";
  options: string[];
}

export interface ContactFormValues {
  name: string;
  email: string;
  phone: string;
  attributes: Record<string, string>;
}

/** What a submitted form held (conform's initialValue), or `fallback` before any submission. */
export function contactFormValues(
  initial: Record<string, unknown> | undefined,
  fallback: ContactFormValues,
): ContactFormValues {
  if (!initial) return fallback;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  const attributes: Record<string, string> = {};
  const submitted = initial.attributes;
  if (submitted && typeof submitted === "object") {
    for (const [k, v] of Object.entries(submitted)) attributes[k] = text(v);
  }
  return {
    name: text(initial.name),
    email: text(initial.email),
    phone: text(initial.phone),
    attributes,
  };
}

/** The other contact a duplicate email or phone number belongs to (from the contacts domain). */
export interface DuplicateContactLink {
  field: "email" | "phone";
  contactId: number;
}

function DuplicateLink({ duplicate, slug }: { duplicate: DuplicateContactLink; slug: string }) {
  const id = duplicate.contactId;
  return (
    <p className="field-hint">
      <Link to={`/w/${slug}/contacts/${id}`}>Open contact #{id}</Link> to edit it instead.
    </p>
  );
}

function AttributeField({
  definition,
  value,
  errors,
}: {
  definition: AttributeFieldDefinition;
  value: string;
  errors?: string[];
}) {
  const id = useId();
  const name = `attributes.${definition.key}`;
  const errorId = errors?.length ? `${id}-error` : undefined;
  if (definition.type === "boolean" || definition.type === "choice") {
    const options =
      definition.type === "boolean"
        ? [
            { value: "yes", label: "Yes" },
            { value: "no", label: "No" },
          ]
        : definition.options.map((o) => ({ value: o, label: o }));
    // A stored value no longer among the options stays selectable until it is changed.
    if (value && !options.some((o) => o.value === value)) options.push({ value, label: value });
    return (
      <div className="field">
        <label htmlFor={id}>{definition.label}</label>
        <select
          id={id}
          name={name}
          defaultValue={value}
          aria-invalid={errorId ? true : undefined}
          aria-describedby={errorId}
        >
          <option value="">(not set)</option>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        {errorId ? (
          <p id={errorId} className="field-error">
            {errors!.join(" ")}
          </p>
        ) : null}
      </div>
    );
  }
  return (
    <Field
      id={id}
      label={definition.label}
      name={name}
      type={definition.type === "number" ? "number" : definition.type === "date" ? "date" : "text"}
      step={definition.type === "number" ? "any" : undefined}
      maxLength={definition.type === "text" ? 1000 : undefined}
      defaultValue={value}
      errors={errors}
      hint={definition.type === "date" ? "YYYY-MM-DD" : undefined}
    />
  );
}

/** Name, email, phone and the workspace's custom attributes: shared by "new" and "edit". */
export function ContactFields({
  slug,
  country,
  definitions,
  values,
  errors,
  duplicate,
}: {
  slug: string;
  /** The workspace's default country, for the phone hint. */
  country: string;
  definitions: AttributeFieldDefinition[];
  values: ContactFormValues;
  errors: Record<string, string[] | null | undefined>;
  /** Set when the email or phone number already belongs to another contact. */
  duplicate?: DuplicateContactLink;
}) {
  const fieldErrors = (name: string) => errors[name] ?? undefined;
  return (
    <>
      <Field
        label="Name"
        name="name"
        autoComplete="off"
        maxLength={200}
        defaultValue={values.name}
        errors={fieldErrors("name")}
      />
      <Field
        label="Email address"
        name="email"
        type="email"
        autoComplete="off"
        maxLength={254}
        defaultValue={values.email}
        errors={fieldErrors("email")}
        hint="Stored in lower case. A contact needs an email address, a phone number or both."
      />
      {duplicate?.field === "email" ? <DuplicateLink duplicate={duplicate} slug={slug} /> : null}
      <Field
        label="Phone number"
        name="phone"
        type="tel"
        autoComplete="off"
        maxLength={40}
        defaultValue={values.phone}
        errors={fieldErrors("phone")}
        hint={`With the country code (+44 20 7946 0958), or without it for ${country} numbers.`}
      />
      {duplicate?.field === "phone" ? <DuplicateLink duplicate={duplicate} slug={slug} /> : null}
      {definitions.length ? (
        <fieldset className="field">
          <legend>Attributes</legend>
          {definitions.map((d) => (
            <AttributeField
              key={d.key}
              definition={d}
              value={values.attributes[d.key] ?? ""}
              errors={fieldErrors(`attributes.${d.key}`)}
            />
          ))}
        </fieldset>
      ) : (
        <p className="field-hint">
          Custom fields such as city or plan can be added on the{" "}
          <Link to={`/w/${slug}/contacts/attributes`}>attributes page</Link>.
        </p>
      )}
    </>
  );
}
