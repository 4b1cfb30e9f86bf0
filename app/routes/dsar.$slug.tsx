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
import { findPortal, submitRequest } from "~/domain/privacy/dsar-requests.server";
import { canTextRequesters } from "~/domain/privacy/dsar-sms.server";
import { DsarRequestForm } from "~/lib/dsar";
import { isHoneypotFilled, submitForm } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Privacy request${data ? ` to ${data.name}` : ""} — Pleisys Engage` },
];

/** A workspace's own portal, for its contacts. The slug is public; unknown or deleted: 404. */
export function loader({ request, params }: LoaderFunctionArgs) {
  const portal = findPortal({ kind: "workspace", slug: params.slug ?? "" });
  return {
    name: portal.name ?? "",
    sent: new URL(request.url).searchParams.get("sent") === "1",
    canText: canTextRequesters(portal.workspaceId),
  };
}

export async function action(args: ActionFunctionArgs) {
  const slug = args.params.slug ?? "";
  const formData = await args.request.formData();
  if (isHoneypotFilled(formData)) {
    findPortal({ kind: "workspace", slug });
    const reply = parseWithZod(formData, { schema: DsarRequestForm }).reply({
      formErrors: ["Your request could not be sent. Leave the “Website” field empty."],
      hideFields: ["website"],
    });
    return data(reply, { status: 400 });
  }
  return submitForm(formData, DsarRequestForm, async (value) => {
    const result = await submitRequest(contextFor(args), {
      portal: { kind: "workspace", slug },
      ...value,
      optOutScope: null,
      optOutBusiness: null,
    });
    return redirect(
      result.codeToken
        ? `/dsar/code/${result.codeToken}`
        : `/dsar/${encodeURIComponent(slug)}?sent=1`,
    );
  });
}

export default function WorkspacePrivacyRequest() {
  const { name, sent, canText } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  return (
    <div className="prose">
      <PageHeader
        title={`Privacy request to ${name}`}
        description={`Ask ${name} to show, copy, correct or erase the personal data it holds about you, or to stop messaging you.`}
      />
      <p>
        {name} uses Pleisys Engage to send its messages. It answers within 30 days. First we confirm
        that the email address or phone number is yours; until then we say nothing about whether{" "}
        {name} holds data about you, and we act only on what you confirm.
      </p>
      <DsarRequestFormCard
        lastResult={lastResult}
        countries={null}
        businessName={name}
        sent={sent}
        canText={canText}
      />
    </div>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
