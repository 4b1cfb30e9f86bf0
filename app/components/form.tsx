import { useActionData } from "@remix-run/react";
import { resultFor, type FormResult } from "~/lib/form-result";
import { FieldNotes } from "./ui/field";
import type { ReactNode } from "react";
import { Alert } from "./ui/alert";

/** Errors that belong to the whole form (wrong password, too many attempts). */
export function FormErrors({ errors, id }: { errors?: string[]; id?: string }) {
  if (!errors?.length) return null;
  return (
    <div id={id}>
      <Alert tone="error">{errors.join(" ")}</Alert>
    </div>
  );
}

/** The honeypot: invisible to people and screen readers, tempting to bots. */
export function Honeypot() {
  return (
    <div className="hp" aria-hidden="true">
      <label htmlFor="website-field">Website</label>
      <input id="website-field" name="website" type="text" tabIndex={-1} autoComplete="off" />
    </div>
  );
}

export function Checkbox({
  name,
  label,
  errors,
  defaultChecked,
  required,
}: {
  name: string;
  label: ReactNode;
  errors?: string[];
  defaultChecked?: boolean;
  required?: boolean;
}) {
  const id = `${name}-checkbox`;
  const errorId = errors?.length ? `${id}-error` : undefined;
  return (
    <div className="field field-checkbox">
      <input
        id={id}
        type="checkbox"
        name={name}
        value="on"
        defaultChecked={defaultChecked}
        required={required}
        aria-invalid={errorId ? true : undefined}
        aria-describedby={errorId}
      />
      <label htmlFor={id}>{label}</label>
      {errorId ? (
        <p id={errorId} className="field-error">
          {errors!.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

export function Select({
  name,
  label,
  options,
  defaultValue,
  errors,
  hint,
}: {
  name: string;
  label: ReactNode;
  options: { value: string; label: string }[];
  defaultValue?: string;
  errors?: string[];
  hint?: ReactNode;
}) {
  const id = `${name}-select`;
  const errorId = errors?.length ? `${id}-error` : undefined;
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={name}
        defaultValue={defaultValue}
        aria-invalid={errorId ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldNotes hint={hint} hintId={hintId} errors={errors} errorId={errorId} />
    </div>
  );
}

/** A labelled multi-line input whose hint and errors are announced with it. */
export function TextArea({
  name,
  label,
  hint,
  errors,
  defaultValue,
  rows = 4,
  maxLength,
  required,
}: {
  name: string;
  label: ReactNode;
  hint?: ReactNode;
  errors?: string[];
  defaultValue?: string;
  rows?: number;
  maxLength?: number;
  required?: boolean;
}) {
  const id = `${name}-textarea`;
  const errorId = errors?.length ? `${id}-error` : undefined;
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        name={name}
        rows={rows}
        maxLength={maxLength}
        required={required}
        defaultValue={defaultValue}
        aria-invalid={errorId ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
      />
      <FieldNotes hint={hint} hintId={hintId} errors={errors} errorId={errorId} />
    </div>
  );
}

/** One choice among a few, each with its own label (and an optional hint), under a legend. */
export function RadioGroup({
  name,
  legend,
  options,
  value,
  errors,
  onChange,
}: {
  name: string;
  legend: string;
  options: { value: string; label: string; hint?: string }[];
  value: string | undefined;
  errors?: string[];
  /** Called with the chosen value (pages that show or hide fields by the choice). */
  onChange?: (value: string) => void;
}) {
  const errorId = errors?.length ? `${name}-error` : undefined;
  return (
    <fieldset className="field" aria-describedby={errorId}>
      <legend>{legend}</legend>
      {options.map((o) => {
        const id = `${name}-${o.value.replace(/[^a-z0-9]/gi, "-")}`;
        return (
          <div key={o.value} className="field-checkbox">
            <input
              id={id}
              type="radio"
              name={name}
              value={o.value}
              defaultChecked={value === o.value}
              onChange={onChange ? () => onChange(o.value) : undefined}
              aria-describedby={o.hint ? `${id}-hint` : undefined}
            />
            <label htmlFor={id}>{o.label}</label>
            {o.hint ? (
              <span id={`${id}-hint`} className="field-hint">
                {" "}
                {o.hint}
              </span>
            ) : null}
          </div>
        );
      })}
      <FieldNotes errors={errors} errorId={errorId} />
    </fieldset>
  );
}

/**
 * The action's reply to the form on this page (see FormResult), or to the form that posted
 * `intent` when the page has several.
 */
export function useFormResult<X = never>(intent?: string): FormResult<X> | undefined {
  const result = useActionData() as FormResult<X> | undefined;
  return intent === undefined ? result : resultFor(result, intent);
}
