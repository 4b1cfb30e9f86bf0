import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import { Form, useNavigation } from "@remix-run/react";
import type { z } from "zod";
import { FormErrors } from "./form";
import { Button } from "./ui/button";

/**
 * Suspend / unsuspend one row of an admin table. Suspending asks for a ticked confirmation
 * (checked by `schema` on the server too); the button names the row for screen readers.
 */
export function SuspendForm({
  idField,
  id,
  name,
  status,
  confirmLabel,
  schema,
  lastResult,
}: {
  idField: string;
  id: string;
  /** What the row is called (email, slug), for the button's accessible name. */
  name: string;
  status: string;
  confirmLabel: string;
  schema: z.ZodType;
  lastResult?: SubmissionResult;
}) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" && navigation.formData?.get(idField) === id;
  const [form, fields] = useForm({
    id: `${idField}-status-${id}`,
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema }),
    shouldValidate: "onSubmit",
  });
  const confirmId = `confirm-suspend-${id}`;
  const confirmErrors = (fields as { confirm?: { errors?: string[] } }).confirm?.errors;
  const suspend = status === "active";
  return (
    <Form method="post" className="admin-row-action" {...getFormProps(form)}>
      <FormErrors errors={form.errors} id={form.errorId} />
      <input type="hidden" name={idField} value={id} />
      <input type="hidden" name="intent" value={suspend ? "suspend" : "unsuspend"} />
      {suspend ? (
        <div className="field-checkbox">
          <input
            id={confirmId}
            type="checkbox"
            name="confirm"
            value="on"
            aria-invalid={confirmErrors?.length ? true : undefined}
            aria-describedby={confirmErrors?.length ? `${confirmId}-error` : undefined}
          />
          <label htmlFor={confirmId}>{confirmLabel}</label>
          {confirmErrors?.length ? (
            <p id={`${confirmId}-error`} className="field-error">
              {confirmErrors.join(" ")}
            </p>
          ) : null}
        </div>
      ) : null}
      <Button
        type="submit"
        variant={suspend ? "danger" : "secondary"}
        disabled={busy}
        aria-label={`${suspend ? "Suspend" : "Unsuspend"} ${name}`}
      >
        {suspend ? "Suspend" : "Unsuspend"}
      </Button>
    </Form>
  );
}
