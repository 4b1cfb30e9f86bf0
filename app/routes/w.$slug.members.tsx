import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can, ROLE_DESCRIPTIONS, ROLE_LABELS, ROLES, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  inviteMember,
  listPendingInvitations,
  revokeInvitation,
} from "~/domain/workspaces/invitations.server";
import {
  assignableRoles,
  changeMemberRole,
  listMembers,
  removeMember,
  transferOwnership,
} from "~/domain/workspaces/workspaces.server";
import { emailSchema } from "~/lib/email-address";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Members — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const id = (what: string) =>
  z
    .string({ error: `Choose ${what}.` })
    .trim()
    .min(1, `Choose ${what}.`)
    .max(64, `Choose ${what} from the list.`);

const role = z.enum(ROLES, { error: "Choose a role from the list." });

const Invite = z.object({ email: emailSchema, role });
const RevokeInvitation = z.object({ invitationId: id("an invitation") });
const ChangeRole = z.object({ userId: id("a member"), role });
const Remove = z.object({ userId: id("a member") });
const Transfer = z.object({
  userId: id("the new owner"),
  confirmSlug: z
    .string({ error: "Type the workspace address to confirm." })
    .trim()
    .min(1, "Type the workspace address to confirm.")
    .max(64, "That is not this workspace's address."),
});

const NEEDS = {
  invite: "members:manage",
  "revoke-invitation": "members:manage",
  "change-role": "members:manage",
  remove: "members:manage",
  transfer: "ownership:transfer",
} as const satisfies Record<string, Permission>;
type Intent = keyof typeof NEEDS;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role, user } = await requireWorkspace(args, "members:read");
  const manage = can(role, "members:manage");
  const tz = workspace.timezone;
  const members = listMembers(workspace.id).map((m) => ({
    userId: m.userId,
    name: m.name,
    email: m.email,
    role: m.role,
    mfaEnabled: m.mfaEnabled,
    joined: formatDateTimeCompact(m.joinedAt, tz),
    joinedIso: m.joinedAt.toISOString(),
    isYou: m.userId === user.id,
  }));
  const invitations = manage
    ? listPendingInvitations(workspace.id, new Date()).map((i) => ({
        id: i.id,
        email: i.email,
        role: i.role,
        expires: formatDateTimeCompact(i.expiresAt, tz),
        expiresIso: i.expiresAt.toISOString(),
      }))
    : [];
  const removeId = new URL(args.request.url).searchParams.get("remove");
  const removing =
    manage && removeId
      ? (members.find((m) => m.userId === removeId && m.role !== "owner") ?? null)
      : null;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    role,
    manage,
    canTransfer: can(role, "ownership:transfer"),
    assignable: assignableRoles(role),
    members,
    invitations,
    removing,
    removeNotFound: Boolean(manage && removeId && !removing),
  };
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, user, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/members`;
  switch (intent) {
    case "invite":
      return submitForm(formData, Invite, async (value) => {
        const { sent } = await inviteMember(wctx, workspace.id, value);
        return sent
          ? redirectWithFlash(page, `Invitation sent to ${value.email}. It is valid for 7 days.`)
          : redirectWithFlash(
              page,
              `The invitation for ${value.email} was created, but the email could not be sent. Revoke it and invite again in a few minutes.`,
              "warning",
            );
      });
    case "revoke-invitation":
      return submitForm(formData, RevokeInvitation, (value) => {
        revokeInvitation(wctx, workspace.id, value.invitationId);
        return redirectWithFlash(page, "Invitation revoked. Its link no longer works.");
      });
    case "change-role":
      return submitForm(formData, ChangeRole, (value) => {
        changeMemberRole(wctx, workspace.id, value.userId, value.role);
        return redirectWithFlash(page, `Role changed to ${ROLE_LABELS[value.role]}.`);
      });
    case "remove":
      return submitForm(formData, Remove, (value) => {
        removeMember(wctx, workspace.id, value.userId);
        if (value.userId === user.id) {
          return redirectWithFlash("/workspaces", `You left ${workspace.name}.`);
        }
        return redirectWithFlash(page, "Member removed. They no longer have access.");
      });
    case "transfer":
      return submitForm(formData, Transfer, (value) => {
        if (value.confirmSlug.toLowerCase() !== workspace.slug) {
          const message = `Type ${workspace.slug} exactly to confirm the transfer.`;
          throw new ValidationError(message, { confirmSlug: [message] });
        }
        transferOwnership(wctx, workspace.id, user.id, value.userId);
        return redirectWithFlash(page, "Ownership transferred. You are now an admin.");
      });
  }
}

/** Every message in a reply, for forms that show their errors together. */
function messages(result: SubmissionResult<string[]> | undefined): string[] {
  return Object.values(result?.error ?? {}).flatMap((m) => m ?? []);
}

export default function MembersPage() {
  const loaderData = useLoaderData<typeof loader>();
  const { workspace, manage, canTransfer, members, invitations, removing } = loaderData;
  const result = useActionData<typeof action>() as SubmissionResult<string[]> | undefined;
  const resultIntent = result?.initialValue?.intent;
  const resultFor = (intent: Intent) => (resultIntent === intent ? result : undefined);
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const roleOptions = loaderData.assignable.map((r) => ({ value: r, label: ROLE_LABELS[r] }));

  const [inviteForm, inviteFields] = useForm({
    id: "invite",
    lastResult: resultFor("invite"),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: Invite }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  const [transferForm, transferFields] = useForm({
    id: "transfer",
    lastResult: resultFor("transfer"),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: Transfer }),
    shouldValidate: "onSubmit",
  });
  const rowErrors = [
    ...messages(resultFor("change-role")),
    ...messages(resultFor("remove")),
    ...messages(resultFor("revoke-invitation")),
  ];
  const others = members.filter((m) => !m.isYou);

  return (
    <>
      <PageHeader
        title="Members"
        description={`People who can open ${workspace.name}, and what each of them may do.`}
      />

      {removing ? (
        <Card title={`Remove ${removing.name}?`}>
          <p>
            {removing.name} ({removing.email}) will lose access to {workspace.name} immediately.
            {removing.isYou
              ? " You are removing yourself: you will need a new invitation to come back."
              : " You can invite them again later."}
          </p>
          <Form method="post" className="inline-form">
            <input type="hidden" name="intent" value="remove" />
            <input type="hidden" name="userId" value={removing.userId} />
            <Button variant="danger" type="submit" disabled={busy}>
              {removing.isYou ? "Leave the workspace" : `Remove ${removing.name}`}
            </Button>
            <ButtonLink to={`/w/${workspace.slug}/members`}>Cancel</ButtonLink>
          </Form>
        </Card>
      ) : null}
      {loaderData.removeNotFound ? (
        <FormErrors
          errors={["That person is not a member you can remove (they may already have left)."]}
        />
      ) : null}

      <FormErrors errors={rowErrors} />

      <section className="admin-section" aria-labelledby="members-heading">
        <h2 id="members-heading">
          Members <span className="muted-count">({members.length})</span>
        </h2>
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Two-factor</th>
                <th scope="col">Joined</th>
                {manage ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.userId}>
                  <th scope="row">
                    {m.name}
                    {m.isYou ? <span className="badge">You</span> : null}
                  </th>
                  <td>{m.email}</td>
                  <td>
                    {manage && m.role !== "owner" && roleOptions.length > 0 ? (
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="intent" value="change-role" />
                        <input type="hidden" name="userId" value={m.userId} />
                        <label className="visually-hidden" htmlFor={`role-${m.userId}`}>
                          Role for {m.name}
                        </label>
                        <select id={`role-${m.userId}`} name="role" defaultValue={m.role}>
                          {roleOptions.map((o) => (
                            <option key={o.value} value={o.value}>
                              {o.label}
                            </option>
                          ))}
                        </select>
                        <Button variant="secondary" type="submit" disabled={busy}>
                          Change<span className="visually-hidden"> role for {m.name}</span>
                        </Button>
                      </Form>
                    ) : (
                      ROLE_LABELS[m.role]
                    )}
                  </td>
                  <td>
                    {m.mfaEnabled ? (
                      <span className="badge badge-success">On</span>
                    ) : (
                      <span className="badge badge-warning">Off</span>
                    )}
                  </td>
                  <td>
                    <time dateTime={m.joinedIso}>{m.joined}</time>
                  </td>
                  {manage ? (
                    <td>
                      {m.role === "owner" ? (
                        <span className="muted-count">Owner: transfer ownership first</span>
                      ) : (
                        <Link to={`?remove=${encodeURIComponent(m.userId)}`}>
                          {m.isYou ? "Leave…" : "Remove…"}
                          <span className="visually-hidden"> {m.name}</span>
                        </Link>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {manage ? (
        <>
          <section className="admin-section" aria-labelledby="invitations-heading">
            <h2 id="invitations-heading">Pending invitations</h2>
            {invitations.length === 0 ? (
              <EmptyState title="No pending invitations">
                Invitations you send appear here until they are accepted, revoked or expire.
              </EmptyState>
            ) : (
              <div className="table-scroll">
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">Email</th>
                      <th scope="col">Role</th>
                      <th scope="col">Expires</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {invitations.map((i) => (
                      <tr key={i.id}>
                        <th scope="row">{i.email}</th>
                        <td>{ROLE_LABELS[i.role]}</td>
                        <td>
                          <time dateTime={i.expiresIso}>{i.expires}</time>
                        </td>
                        <td>
                          <Form method="post">
                            <input type="hidden" name="intent" value="revoke-invitation" />
                            <input type="hidden" name="invitationId" value={i.id} />
                            <Button variant="secondary" type="submit" disabled={busy}>
                              Revoke
                              <span className="visually-hidden"> invitation for {i.email}</span>
                            </Button>
                          </Form>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <Card title="Invite someone">
            <Form method="post" {...getFormProps(inviteForm)}>
              <input type="hidden" name="intent" value="invite" />
              <FormErrors errors={inviteForm.errors} id={inviteForm.errorId} />
              <Field
                label="Email address"
                autoComplete="off"
                hint="They get an email with a link that is valid for 7 days."
                errors={inviteFields.email.errors}
                {...getInputProps(inviteFields.email, { type: "email" })}
              />
              <Select
                name={inviteFields.role.name}
                label="Role"
                options={roleOptions}
                defaultValue={String(inviteFields.role.initialValue ?? "marketer")}
                errors={inviteFields.role.errors}
              />
              <dl className="role-list">
                {loaderData.assignable.map((r) => (
                  <div key={r}>
                    <dt>{ROLE_LABELS[r]}</dt>
                    <dd>{ROLE_DESCRIPTIONS[r]}</dd>
                  </div>
                ))}
              </dl>
              <Button type="submit" disabled={busy}>
                Send invitation
              </Button>
            </Form>
          </Card>
        </>
      ) : null}

      {canTransfer ? (
        <section className="card danger-zone" aria-labelledby="transfer-heading">
          <h2 id="transfer-heading" className="card-title">
            Transfer ownership
          </h2>
          <p>
            The new owner can transfer the workspace again. You stay in the workspace as an admin.
          </p>
          {others.length === 0 ? (
            <p className="muted-count">
              Invite someone first: ownership goes to an existing member.
            </p>
          ) : (
            <Form method="post" {...getFormProps(transferForm)}>
              <input type="hidden" name="intent" value="transfer" />
              <FormErrors errors={transferForm.errors} id={transferForm.errorId} />
              <Select
                name={transferFields.userId.name}
                label="New owner"
                options={others.map((m) => ({ value: m.userId, label: `${m.name} (${m.email})` }))}
                defaultValue={
                  typeof transferFields.userId.initialValue === "string"
                    ? transferFields.userId.initialValue
                    : undefined
                }
                errors={transferFields.userId.errors}
              />
              <Field
                label={
                  <>
                    Type <code>{workspace.slug}</code> to confirm
                  </>
                }
                autoComplete="off"
                spellCheck={false}
                errors={transferFields.confirmSlug.errors}
                {...getInputProps(transferFields.confirmSlug, { type: "text" })}
              />
              <Button variant="danger" type="submit" disabled={busy}>
                Transfer ownership
              </Button>
            </Form>
          )}
        </section>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
