import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { requireUser } from "~/auth/session.server";
import { useFollowField } from "~/components/follow-field";
import { FormErrors, Select } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import { COUNTRY_CODES, countryName, timeZones } from "~/domain/workspaces/options";
import { createWorkspace, listMyWorkspaces } from "~/domain/workspaces/workspaces.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { slugFromName } from "~/lib/slug";

export const meta: MetaFunction = () => [{ title: "Create a workspace — Pleisys Engage" }];

const NewWorkspace = z.object({
  name: z.string({ error: "Name your workspace." }).trim().min(1, "Name your workspace.").max(80),
  // Left empty (no JavaScript to fill it in from the name), the server makes it from the name.
  slug: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^(?:[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9])?$/,
      "Use 3–40 lower-case letters, digits and hyphens, starting and ending with a letter or digit.",
    )
    .default(""),
  country: z.string({ error: "Choose a country." }).length(2, "Choose a country."),
  timezone: z.string({ error: "Choose a time zone." }).min(1).max(64),
  currency: z.enum(["INR", "USD"], { error: "Choose INR or USD." }),
});

export async function loader(args: LoaderFunctionArgs) {
  const { user } = await requireUser(args);
  return {
    first: listMyWorkspaces(user.id).length === 0,
    countries: COUNTRY_CODES.map((c) => ({ value: c, label: countryName(c) })).sort((a, b) =>
      a.label.localeCompare(b.label),
    ),
    zones: timeZones(),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { user, ctx } = await requireUser(args);
  return submitForm(await args.request.formData(), NewWorkspace, (value) => {
    const workspace = createWorkspace(ctx, user.id, value);
    return redirectWithFlash(`/w/${workspace.slug}`, `Workspace “${workspace.name}” is ready.`);
  });
}

export default function NewWorkspacePage() {
  const { first, countries, zones } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const follow = useFollowField("slug", slugFromName);
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: NewWorkspace }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
    defaultValue: { country: "IN", timezone: "Asia/Kolkata", currency: "INR" },
  });
  return (
    <>
      <PageHeader
        title={first ? "Set up your workspace" : "Create a workspace"}
        description="A workspace holds your contacts, channels and campaigns. You can invite your team next."
      />
      <Card>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label="Workspace name"
            hint="Usually your business or brand."
            errors={fields.name.errors}
            {...getInputProps(fields.name, { type: "text" })}
            {...follow.source}
          />
          <Field
            label="Workspace address"
            hint="Used in links: /w/your-address. Filled in from the name; lower-case letters, digits and hyphens."
            errors={fields.slug.errors}
            autoComplete="off"
            spellCheck={false}
            {...getInputProps(fields.slug, { type: "text" })}
            {...follow.target}
          />
          <Select
            name={fields.country.name}
            label="Default country for phone numbers"
            hint="Numbers written without a country code are read as this country's."
            options={countries}
            defaultValue={String(fields.country.initialValue ?? "IN")}
            errors={fields.country.errors}
          />
          <Select
            name={fields.timezone.name}
            label="Time zone"
            options={zones.map((z) => ({ value: z, label: z.replace(/_/g, " ") }))}
            defaultValue={String(fields.timezone.initialValue ?? "Asia/Kolkata")}
            errors={fields.timezone.errors}
          />
          <Select
            name={fields.currency.name}
            label="Currency"
            hint="Campaign cost estimates and the price table use this currency."
            options={[
              { value: "INR", label: "Indian rupee (INR)" },
              { value: "USD", label: "US dollar (USD)" },
            ]}
            defaultValue={String(fields.currency.initialValue ?? "INR")}
            errors={fields.currency.errors}
          />
          <Button type="submit" disabled={navigation.state === "submitting"}>
            Create workspace
          </Button>
        </Form>
      </Card>
    </>
  );
}
