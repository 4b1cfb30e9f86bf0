import { useId, type InputHTMLAttributes, type ReactNode } from "react";

export interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: ReactNode;
  hint?: ReactNode;
  errors?: string[];
}

/** A labelled input whose hint and errors are announced with it (aria-describedby). */
export function Field({ label, hint, errors, id, className, ...input }: FieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = errors?.length ? `${inputId}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={["field", className].filter(Boolean).join(" ")}>
      <label htmlFor={inputId}>{label}</label>
      <input
        id={inputId}
        aria-invalid={errorId ? true : undefined}
        aria-describedby={describedBy}
        {...input}
      />
      <FieldNotes hint={hint} hintId={hintId} errors={errors} errorId={errorId} />
    </div>
  );
}

/** The hint and the errors under a control, with the ids its aria-describedby names. */
export function FieldNotes({
  hint,
  hintId,
  errors,
  errorId,
}: {
  hint?: ReactNode;
  hintId?: string;
  errors?: string[];
  errorId?: string;
}) {
  return (
    <>
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {errorId && errors?.length ? (
        <p id={errorId} className="field-error">
          {errors.join(" ")}
        </p>
      ) : null}
    </>
  );
}
