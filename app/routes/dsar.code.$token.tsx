import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { contextFor } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import { describeCodeRequest, verifyCode } from "~/domain/privacy/dsar-requests.server";
import { DsarCodeForm } from "~/lib/dsar";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [
  { title: "Enter your code — Pleisys Engage" },
  { name: "robots", content: "noindex" },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** The page a phone requester lands on after submitting. Garbage tokens: 404. */
export function loader({ params }: LoaderFunctionArgs) {
  const { usable } = describeCodeRequest(params.token ?? "", new Date());
  return { usable };
}

export async function action(args: ActionFunctionArgs) {
  const ctx = contextFor(args);
  const { requestId } = describeCodeRequest(args.params.token ?? "", ctx.now());
  const formData = await args.request.formData();
  return submitForm(formData, DsarCodeForm, async (value) => {
    const result = await verifyCode(ctx, requestId, value.code);
    return redirect(`/dsar/status/${result.statusToken}`);
  });
}

export default function EnterPrivacyCode() {
  const { usable } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: DsarCodeForm }),
    shouldValidate: "onSubmit",
  });
  return (
    <div className="prose">
      <PageHeader title="Confirm your privacy request" />
      <Alert tone="info" title="Check your phone">
        <p>
          If we hold data about you, we have sent a 6-digit code to the phone number you gave (and a
          link to your email address, if you gave one). The code works for 10 minutes. We act only
          on what you confirm: if you gave both, the first you confirm is the one your request
          covers.
        </p>
      </Alert>
      {usable ? (
        <Card>
          <Form method="post" {...getFormProps(form)}>
            <FormErrors errors={form.errors} id={form.errorId} />
            <Field
              label="Code from the text message"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={20}
              errors={fields.code.errors}
              {...getInputProps(fields.code, { type: "text" })}
            />
            <Button type="submit" disabled={navigation.state === "submitting"}>
              Confirm my request
            </Button>
          </Form>
        </Card>
      ) : (
        <Alert tone="error" title="This code can no longer be used">
          <p>
            It has expired, was tried too many times, or the request is already confirmed. If you
            still want us to act, <Link to="/dsar">send the request again</Link>.
          </p>
        </Alert>
      )}
    </div>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
