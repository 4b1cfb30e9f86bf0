import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { ContactFields, contactFormValues } from "~/components/contact-form";
import { FormErrors, useFormResult } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import { listAttributeDefinitions } from "~/domain/contacts/attributes.server";
import {
  ContactFormSchema,
  duplicateContactOf,
  type DuplicateContact,
} from "~/domain/contacts/contact-form";
import { createContact } from "~/domain/contacts/contacts.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `New contact — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  return {
    workspace: { name: workspace.name, slug: workspace.slug, country: workspace.country },
    definitions: listAttributeDefinitions(wctx).map(({ key, label, type, options }) => ({
      key,
      label,
      type,
      options,
    })),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const formData = await args.request.formData();
  return submitForm(
    formData,
    ContactFormSchema,
    (value) => {
      const contact = createContact(wctx, {
        name: value.name ?? "",
        email: value.email ?? null,
        phone: value.phone ?? null,
        attributes: value.attributes ?? {},
      });
      return redirectWithFlash(
        `/w/${workspace.slug}/contacts/${contact.id}`,
        "Contact created. Set their consent per channel below before messaging them.",
      );
    },
    { extra: duplicateContactOf },
  );
}

export default function NewContactPage() {
  const { workspace, definitions } = useLoaderData<typeof loader>();
  const result = useFormResult<DuplicateContact>();
  const busy = useNavigation().state === "submitting";
  const errors = result?.error ?? {};
  const values = contactFormValues(result?.initialValue as Record<string, unknown> | undefined, {
    name: "",
    email: "",
    phone: "",
    attributes: {},
  });
  const base = `/w/${workspace.slug}/contacts`;
  return (
    <>
      <PageHeader
        title="New contact"
        description={
          <>
            Add one person by hand. To add many,{" "}
            <Link to={`${base}/import`}>import a CSV file</Link>.
          </>
        }
      />
      <Card>
        <Form method="post" noValidate>
          <FormErrors errors={errors[""] ?? undefined} />
          <ContactFields
            slug={workspace.slug}
            country={workspace.country}
            definitions={definitions}
            values={values}
            errors={errors}
            duplicate={result?.extra}
          />
          <div className="filters-actions">
            <Button type="submit" disabled={busy}>
              Create contact
            </Button>
            <ButtonLink to={base}>Cancel</ButtonLink>
          </div>
        </Form>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
