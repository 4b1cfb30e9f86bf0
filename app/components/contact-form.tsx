import { Link } from "@remix-run/react";
import { useId } from "react";
import { z } from "zod";
import { Field } from "./ui/field";

/** The contact forms' shape only; the contacts domain normalises and validates every value. */
export const ContactFormSchema = z.object({
  name: z.string().max(200, "Use at most 200 characters.").optional(),
  email: z.string().max(254, "That email address is too long.").optional(),
  phone: z.string().max(40, "That phone number is too long.").optional(),
  attributes: z.record(z.string(), z.string().max(1000, "Too long.").optional()).optional(),
});

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

/**
 * A field error, with a link to the other contact when the error says an email or phone
 * already belongs to one ("Another contact (#12) already has…", from the contacts domain).
 */
function ErrorsWithLink({ errors, slug }: { errors: string[]; slug: string }) {
  const id = errors.map((e) => /\(#(\d+)\)/.exec(e)?.[1]).find(Boolean);
  if (!id) return null;
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
}: {
  slug: string;
  /** The workspace's default country, for the phone hint. */
  country: string;
  definitions: AttributeFieldDefinition[];
  values: ContactFormValues;
  errors: Record<string, string[] | null | undefined>;
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
      <ErrorsWithLink errors={fieldErrors("email") ?? []} slug={slug} />
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
      <ErrorsWithLink errors={fieldErrors("phone") ?? []} slug={slug} />
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
