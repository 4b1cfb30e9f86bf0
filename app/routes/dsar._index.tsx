import { parseWithZod } from "@conform-to/zod/v4";
import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { contextFor } from "~/auth/session.server";
import { DsarRequestFormCard } from "~/components/dsar-request-form";
import { PageHeader } from "~/components/ui/layout";
import { submitRequest } from "~/domain/privacy/dsar-requests.server";
import { canTextRequesters } from "~/domain/privacy/dsar-sms.server";
import { COUNTRY_CODES, countryName } from "~/domain/workspaces/options";
import { DsarRequestForm } from "~/lib/dsar";
import { isHoneypotFilled, submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Privacy request — Pleisys Engage" }];

export function loader({ request }: LoaderFunctionArgs) {
  return {
    sent: new URL(request.url).searchParams.get("sent") === "1",
    canText: canTextRequesters(null),
    countries: COUNTRY_CODES.map((code) => ({
      value: code,
      label: `${countryName(code)} (${code})`,
    })).sort((a, b) => a.label.localeCompare(b.label)),
  };
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  if (isHoneypotFilled(formData)) {
    const reply = parseWithZod(formData, { schema: DsarRequestForm }).reply({
      formErrors: ["Your request could not be sent. Leave the “Website” field empty."],
      hideFields: ["website"],
    });
    return data(reply, { status: 400 });
  }
  return submitForm(formData, DsarRequestForm, async (value) => {
    const result = await submitRequest(contextFor(args), {
      portal: { kind: "platform" },
      ...value,
    });
    return redirect(result.codeToken ? `/dsar/code/${result.codeToken}` : "/dsar?sent=1");
  });
}

export default function PlatformPrivacyRequest() {
  const { sent, canText, countries } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  return (
    <div className="prose">
      <PageHeader
        title="Make a privacy request"
        description="Ask Pleisys Engage, and every business that uses it, to show, copy, correct or erase your personal data, or to stop messaging you."
      />
      <p>
        We answer within 30 days. First we confirm that the email address or phone number is yours;
        until then we say nothing about whether we hold data about you, and we act only on what you
        confirm. You can also write to <a href="mailto:privacy@pleisys.com">privacy@pleisys.com</a>.
      </p>
      <DsarRequestFormCard
        lastResult={lastResult}
        countries={countries}
        businessName={null}
        sent={sent}
        canText={canText}
      />
    </div>
  );
}
