import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useNavigation } from "@remix-run/react";
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
import { getContact, updateContact } from "~/domain/contacts/contacts.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `Edit ${data?.contact.title ?? "contact"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

function asFormText(value: string | number | boolean | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const contact = getContact(wctx, parseId(args.params.contactId, "Contact"));
  const definitions = listAttributeDefinitions(wctx);
  return {
    workspace: { name: workspace.name, slug: workspace.slug, country: workspace.country },
    contact: {
      id: contact.id,
      title: contact.name || contact.email || contact.phone || `Contact #${contact.id}`,
      values: {
        name: contact.name,
        email: contact.email ?? "",
        phone: contact.phone ?? "",
        attributes: Object.fromEntries(
          definitions.map((d) => [d.key, asFormText(contact.attributes[d.key])]),
        ),
      },
    },
    definitions: definitions.map(({ key, label, type, options }) => ({
      key,
      label,
      type,
      options,
    })),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const id = parseId(args.params.contactId, "Contact");
  const formData = await args.request.formData();
  return submitForm(
    formData,
    ContactFormSchema,
    (value) => {
      // The form shows every attribute: one left empty is cleared.
      const attributes = Object.fromEntries(
        listAttributeDefinitions(wctx).map((d) => [d.key, value.attributes?.[d.key] ?? ""]),
      );
      updateContact(wctx, id, {
        name: value.name ?? "",
        email: value.email ?? "",
        phone: value.phone ?? "",
        attributes,
      });
      return redirectWithFlash(`/w/${workspace.slug}/contacts/${id}`, "Contact saved.");
    },
    { extra: duplicateContactOf },
  );
}

export default function EditContactPage() {
  const { workspace, contact, definitions } = useLoaderData<typeof loader>();
  const result = useFormResult<DuplicateContact>();
  const busy = useNavigation().state === "submitting";
  const errors = result?.error ?? {};
  const values = contactFormValues(
    result?.initialValue as Record<string, unknown> | undefined,
    contact.values,
  );
  const page = `/w/${workspace.slug}/contacts/${contact.id}`;
  return (
    <>
      <PageHeader
        title={`Edit ${contact.title}`}
        description="Consent, tags and lists are changed on the contact's page."
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
              Save contact
            </Button>
            <ButtonLink to={page}>Cancel</ButtonLink>
          </div>
        </Form>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
