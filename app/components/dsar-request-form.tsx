import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import { Form, useNavigation } from "@remix-run/react";
import { useEffect, useState } from "react";
import {
  DSAR_DETAILS_MAX,
  DSAR_REQUEST_TYPES,
  DSAR_TYPE_HINTS,
  DSAR_TYPE_LABELS,
  DsarRequestForm,
  PHONE_ONLY_UNAVAILABLE,
} from "~/lib/dsar";
import { FormErrors, Honeypot, RadioGroup, Select, TextArea } from "./form";
import { Alert } from "./ui/alert";
import { Button } from "./ui/button";
import { Field } from "./ui/field";
import { Card } from "./ui/layout";

/**
 * The public privacy request form, for the platform's /dsar and a workspace's /dsar/<slug>.
 * Without JavaScript every field shows; with it, "what to change" shows for corrections only
 * and the opt-out scope for opt-outs only.
 */
export function DsarRequestFormCard({
  lastResult,
  countries,
  businessName,
  sent,
  canText,
}: {
  lastResult?: SubmissionResult<string[]> | null;
  /** Platform portal: countries for numbers written without a country code. */
  countries: { value: string; label: string }[] | null;
  /** A workspace's portal: whose contacts the request is about. */
  businessName: string | null;
  /** The previous submission went through: show the neutral confirmation. */
  sent: boolean;
  /** The portal can text a confirmation code; without it a phone alone cannot be confirmed. */
  canText: boolean;
}) {
  const navigation = useNavigation();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: DsarRequestForm }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  const initialType = (fields.type.initialValue as string | undefined) ?? undefined;
  const [type, setType] = useState<string | undefined>(initialType);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const shows = (wanted: string) => !hydrated || type === wanted;

  return (
    <>
      {sent ? (
        <Alert tone="success" title="Check your email">
          <p>
            If we hold data about you, we have sent a link to the email address you gave. Open it
            within 24 hours to confirm your request. If nothing arrives, check your spam folder or
            send the request again.
          </p>
        </Alert>
      ) : null}
      {canText ? null : (
        <Alert tone="warning" title="A phone number alone is not enough here">
          <p>{PHONE_ONLY_UNAVAILABLE}</p>
        </Alert>
      )}
      <Card>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <RadioGroup
            name={fields.type.name}
            legend="What would you like us to do?"
            value={initialType}
            errors={fields.type.errors}
            onChange={setType}
            options={DSAR_REQUEST_TYPES.map((value) => ({
              value,
              label: DSAR_TYPE_LABELS[value],
              hint: DSAR_TYPE_HINTS[value],
            }))}
          />
          <div hidden={!shows("correction")}>
            <TextArea
              name={fields.details.name}
              label="What should we change?"
              hint="Say what is wrong and what it should say, e.g. “My name is spelt Asha, not Aasha”."
              maxLength={DSAR_DETAILS_MAX}
              defaultValue={(fields.details.initialValue as string | undefined) ?? ""}
              errors={fields.details.errors}
            />
          </div>
          {countries ? (
            <div hidden={!shows("opt_out")}>
              <RadioGroup
                name={fields.optOutScope.name}
                legend="Stop messages from"
                value={(fields.optOutScope.initialValue as string | undefined) ?? "all"}
                errors={fields.optOutScope.errors}
                options={[
                  { value: "all", label: "Every business on Pleisys Engage that holds my details" },
                  { value: "one", label: "Only one business" },
                ]}
              />
              <Field
                label="The business's privacy link or name (for “Only one business”)"
                hint="From the privacy link in its messages, like engage.pleisys.com/dsar/acme."
                errors={fields.optOutBusiness.errors}
                {...getInputProps(fields.optOutBusiness, { type: "text" })}
              />
            </div>
          ) : null}
          <Field
            label="Email address"
            autoComplete="email"
            hint={
              businessName
                ? `The address ${businessName} has for you. We send a link to confirm that it is yours.`
                : "We send a link to this address to confirm that it is yours."
            }
            errors={fields.email.errors}
            {...getInputProps(fields.email, { type: "email" })}
          />
          <Field
            label="Phone number"
            autoComplete="tel"
            hint={
              !canText
                ? "Optional, with your email address: it cannot be confirmed here, so the request runs on your email address alone."
                : countries
                  ? "Optional. With its country code (+91 98765 43210), or choose the country below. We text a 6-digit code to it."
                  : "Optional. We text a 6-digit code to it."
            }
            errors={fields.phone.errors}
            {...getInputProps(fields.phone, { type: "tel" })}
          />
          {countries ? (
            <Select
              name={fields.phoneCountry.name}
              label="Country of the phone number"
              options={[
                { value: "", label: "The number starts with + and its code" },
                ...countries,
              ]}
              defaultValue={(fields.phoneCountry.initialValue as string | undefined) ?? ""}
              errors={fields.phoneCountry.errors}
            />
          ) : null}
          <Honeypot />
          <Button type="submit" disabled={navigation.state === "submitting"}>
            Send request
          </Button>
        </Form>
      </Card>
    </>
  );
}
