import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { ConfirmCard } from "~/components/ui/confirm-card";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { listAgents, setAgentCapacity } from "~/domain/inbox/agents.server";
import {
  createLabel,
  deleteLabel,
  LABEL_COLORS,
  listLabels,
  renameLabel,
} from "~/domain/inbox/labels.server";
import {
  addTeamMember,
  createTeam,
  deleteTeam,
  listTeams,
  membersWith,
  removeTeamMember,
  renameTeam,
} from "~/domain/inbox/teams.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formErrorOf, resultFor, fieldErrorsOf, type FormResult } from "~/lib/form-result";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Teams and labels — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const COLOR_LABELS: Record<(typeof LABEL_COLORS)[number], string> = {
  gray: "Grey",
  green: "Green",
  yellow: "Yellow",
  red: "Red",
};
const BADGE: Record<(typeof LABEL_COLORS)[number], string> = {
  gray: "badge",
  green: "badge badge-success",
  yellow: "badge badge-warning",
  red: "badge badge-danger",
};

const id = z
  .string({ error: "Choose one from the list." })
  .trim()
  .min(1, "Choose one from the list.");
const name = z
  .string({ error: "Enter a name." })
  .trim()
  .min(1, "Enter a name.")
  .max(60, "Use at most 60 characters.");
const color = z.enum(LABEL_COLORS, { error: "Choose a colour from the list." }).default("gray");

const CreateTeam = z.object({ name });
const RenameTeam = z.object({ teamId: id, name });
const TeamOnly = z.object({ teamId: id });
const Member = z.object({ teamId: id, userId: id });
const Capacity = z.object({
  userId: id,
  capacity: z
    .number({ error: "Enter a number from 1 to 100." })
    .int("Enter a whole number.")
    .min(1, "Enter a number from 1 to 100.")
    .max(100, "Enter a number from 1 to 100.")
    .optional(),
});
const CreateLabel = z.object({ name: name.max(40, "Use at most 40 characters."), color });
const RenameLabel = z.object({
  labelId: id,
  name: name.max(40, "Use at most 40 characters."),
  color,
});
const LabelOnly = z.object({ labelId: id });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "inbox:manage");
  const url = new URL(args.request.url);
  const teams = listTeams(wctx).map((t) => ({
    id: t.id,
    name: t.name,
    members: t.members.map((m) => ({ userId: m.userId, name: m.name, email: m.email })),
  }));
  const labels = listLabels(wctx);
  const agents = listAgents(wctx).map((a) => ({
    userId: a.userId,
    name: a.name,
    role: a.role,
    online: a.online,
    capacity: a.capacity,
    effectiveCapacity: a.effectiveCapacity,
  }));
  const deletingTeam =
    teams.find((t) => String(t.id) === url.searchParams.get("deleteTeam")) ?? null;
  const [removeTeam, removeUser] = (url.searchParams.get("remove") ?? "").split(":");
  const removingTeam = teams.find((t) => String(t.id) === removeTeam);
  const removingMember = removingTeam?.members.find((m) => m.userId === removeUser);
  const deletingLabel =
    labels.find((l) => String(l.id) === url.searchParams.get("deleteLabel")) ?? null;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    teams,
    candidates: membersWith(wctx, "inbox:reply").map((m) => ({ value: m.userId, label: m.name })),
    agents,
    labels,
    deletingTeam,
    removing:
      removingTeam && removingMember
        ? {
            teamId: removingTeam.id,
            team: removingTeam.name,
            userId: removingMember.userId,
            name: removingMember.name,
          }
        : null,
    deletingLabel,
    colors: LABEL_COLORS.map((c) => ({ value: c, label: COLOR_LABELS[c] })),
  };
}

const NEEDS = {
  createTeam: "inbox:manage",
  renameTeam: "inbox:manage",
  deleteTeam: "inbox:manage",
  addMember: "inbox:manage",
  removeMember: "inbox:manage",
  setCapacity: "inbox:manage",
  createLabel: "inbox:manage",
  renameLabel: "inbox:manage",
  deleteLabel: "inbox:manage",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/settings/teams`;
  const done = (message: string) => redirectWithFlash(page, message);
  switch (intent) {
    case "createTeam":
      return submitForm(formData, CreateTeam, (v) =>
        done(`Team “${createTeam(wctx, v.name).name}” added.`),
      );
    case "renameTeam":
      return submitForm(formData, RenameTeam, (v) =>
        done(`Team renamed to “${renameTeam(wctx, parseId(v.teamId, "Team"), v.name).name}”.`),
      );
    case "deleteTeam":
      return submitForm(formData, TeamOnly, (v) =>
        done(`Team “${deleteTeam(wctx, parseId(v.teamId, "Team")).name}” deleted.`),
      );
    case "addMember":
      return submitForm(formData, Member, (v) => {
        addTeamMember(wctx, parseId(v.teamId, "Team"), v.userId);
        return done("Member added to the team.");
      });
    case "removeMember":
      return submitForm(formData, Member, (v) => {
        removeTeamMember(wctx, parseId(v.teamId, "Team"), v.userId);
        return done("Member removed from the team.");
      });
    case "setCapacity":
      return submitForm(formData, Capacity, (v) => {
        setAgentCapacity(wctx, v.userId, v.capacity ?? null);
        return done("Cap saved.");
      });
    case "createLabel":
      return submitForm(formData, CreateLabel, (v) =>
        done(`Label “${createLabel(wctx, v).name}” added.`),
      );
    case "renameLabel":
      return submitForm(formData, RenameLabel, (v) => {
        renameLabel(wctx, parseId(v.labelId, "Label"), v);
        return done("Label saved.");
      });
    case "deleteLabel":
      return submitForm(formData, LabelOnly, (v) =>
        done(`Label “${deleteLabel(wctx, parseId(v.labelId, "Label")).name}” deleted.`),
      );
  }
}

export default function TeamsPage() {
  const data = useLoaderData<typeof loader>();
  const {
    workspace,
    teams,
    candidates,
    agents,
    labels,
    deletingTeam,
    removing,
    deletingLabel,
    colors,
  } = data;
  const result = useActionData<typeof action>() as FormResult | undefined;
  const busy = useNavigation().state === "submitting";
  const page = `/w/${workspace.slug}/settings/teams`;
  const errorsOf = (intent: string) => {
    const r = resultFor(result, intent);
    const fields = fieldErrorsOf(r);
    const all = [formErrorOf(r), ...Object.values(fields).flat()].filter((m): m is string => !!m);
    return all.length ? all : undefined;
  };
  const target = (r: FormResult | undefined, key: string) =>
    String((r?.initialValue as Record<string, unknown> | null)?.[key] ?? "");

  return (
    <>
      <PageHeader
        title="Teams and labels"
        description={
          <>
            Route conversations to teams, set each agent&apos;s cap, and label conversations.{" "}
            <Link to={`/w/${workspace.slug}/settings/inbox`}>Inbox settings</Link>
          </>
        }
      />

      {deletingTeam ? (
        <ConfirmCard
          id="delete-team-heading"
          title={<>Delete the team “{deletingTeam.name}”?</>}
          action={page}
          intent="deleteTeam"
          fields={{ teamId: deletingTeam.id }}
          confirmLabel="Delete team"
          cancelTo={page}
          busy={busy}
        >
          <p>Its conversations keep their assignee and no longer belong to a team.</p>
        </ConfirmCard>
      ) : null}
      {removing ? (
        <ConfirmCard
          id="remove-heading"
          title={
            <>
              Remove {removing.name} from “{removing.team}”?
            </>
          }
          action={page}
          intent="removeMember"
          fields={{ teamId: removing.teamId, userId: removing.userId }}
          confirmLabel="Remove from team"
          cancelTo={page}
          busy={busy}
        >
          <p>They stop seeing the team&apos;s unassigned conversations; their own stay theirs.</p>
        </ConfirmCard>
      ) : null}
      {deletingLabel ? (
        <ConfirmCard
          id="delete-label-heading"
          title={<>Delete the label “{deletingLabel.name}”?</>}
          action={page}
          intent="deleteLabel"
          fields={{ labelId: deletingLabel.id }}
          confirmLabel="Delete label"
          cancelTo={page}
          busy={busy}
        >
          <p>It comes off {deletingLabel.conversations.toLocaleString("en-US")} conversations.</p>
        </ConfirmCard>
      ) : null}
      <FormErrors
        errors={errorsOf("deleteTeam") ?? errorsOf("removeMember") ?? errorsOf("deleteLabel")}
      />

      <section className="admin-section" aria-labelledby="teams-heading">
        <h2 id="teams-heading">Teams</h2>
        {teams.length === 0 ? (
          <EmptyState title="No teams yet">
            Add a team below, then its members see its conversations.
          </EmptyState>
        ) : null}
        {teams.map((t) => {
          const added = resultFor(result, "addMember");
          const renamed = resultFor(result, "renameTeam");
          const mine = (r: FormResult | undefined) => target(r, "teamId") === String(t.id);
          const outside = candidates.filter((c) => !t.members.some((m) => m.userId === c.value));
          return (
            <Card key={t.id} title={t.name}>
              {t.members.length === 0 ? (
                <p className="field-hint">Nobody is in this team yet.</p>
              ) : (
                <ul>
                  {t.members.map((m) => (
                    <li key={m.userId}>
                      {m.name} <span className="field-hint">{m.email}</span>{" "}
                      <Link to={`${page}?remove=${t.id}:${m.userId}`}>
                        Remove…
                        <span className="visually-hidden">
                          {" "}
                          {m.name} from {t.name}
                        </span>
                      </Link>
                    </li>
                  ))}
                </ul>
              )}
              {outside.length ? (
                <Form method="post" action={page} className="inline-form">
                  <input type="hidden" name="intent" value="addMember" />
                  <input type="hidden" name="teamId" value={t.id} />
                  <Select name="userId" label={`Add to ${t.name}`} options={outside} />
                  <Button type="submit" disabled={busy}>
                    Add member
                  </Button>
                </Form>
              ) : null}
              <FormErrors errors={mine(added) ? errorsOf("addMember") : undefined} />
              <Form method="post" action={page} className="inline-form">
                <input type="hidden" name="intent" value="renameTeam" />
                <input type="hidden" name="teamId" value={t.id} />
                <Field label="Team name" name="name" defaultValue={t.name} maxLength={60} />
                <Button type="submit" disabled={busy}>
                  Rename
                </Button>
                <ButtonLink to={`${page}?deleteTeam=${t.id}`} variant="danger">
                  Delete team…
                </ButtonLink>
              </Form>
              <FormErrors errors={mine(renamed) ? errorsOf("renameTeam") : undefined} />
            </Card>
          );
        })}
        <Card title="Add a team">
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="createTeam" />
            <Field label="Name" name="name" maxLength={60} placeholder="e.g. Support" />
            <Button type="submit" disabled={busy}>
              Add team
            </Button>
          </Form>
          <FormErrors errors={errorsOf("createTeam")} />
        </Card>
      </section>

      <section className="admin-section" aria-labelledby="agents-heading">
        <h2 id="agents-heading">Agents</h2>
        <p className="field-hint">
          Online means the agent is available and has the inbox open. An empty cap uses the
          workspace&apos;s.
        </p>
        <FormErrors errors={errorsOf("setCapacity")} />
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Cap</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr key={a.userId}>
                  <th scope="row">{a.name}</th>
                  <td>
                    {a.online ? <span className="badge badge-success">Online</span> : "Offline"}
                  </td>
                  <td>
                    <Form method="post" action={page} className="inline-form">
                      <input type="hidden" name="intent" value="setCapacity" />
                      <input type="hidden" name="userId" value={a.userId} />
                      <Field
                        label={<span className="visually-hidden">Cap for {a.name}</span>}
                        name="capacity"
                        type="number"
                        min={1}
                        max={100}
                        inputMode="numeric"
                        placeholder={String(a.effectiveCapacity)}
                        defaultValue={a.capacity ?? ""}
                      />
                      <Button type="submit" disabled={busy}>
                        Save<span className="visually-hidden"> cap for {a.name}</span>
                      </Button>
                    </Form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="admin-section" aria-labelledby="labels-heading">
        <h2 id="labels-heading">Labels</h2>
        {labels.length === 0 ? (
          <EmptyState title="No labels yet">Add one below to sort conversations.</EmptyState>
        ) : (
          <ul className="card" style={{ listStyle: "none" }}>
            {labels.map((l) => (
              <li key={l.id}>
                <span className={BADGE[l.color]}>{l.name}</span> on{" "}
                {l.conversations.toLocaleString("en-US")}{" "}
                {l.conversations === 1 ? "conversation" : "conversations"}
                <Form method="post" action={page} className="inline-form">
                  <input type="hidden" name="intent" value="renameLabel" />
                  <input type="hidden" name="labelId" value={l.id} />
                  <Field label="Name" name="name" defaultValue={l.name} maxLength={40} />
                  <Select name="color" label="Colour" options={colors} defaultValue={l.color} />
                  <Button type="submit" disabled={busy}>
                    Save<span className="visually-hidden"> {l.name}</span>
                  </Button>
                  <Link to={`${page}?deleteLabel=${l.id}`}>
                    Delete…<span className="visually-hidden"> {l.name}</span>
                  </Link>
                </Form>
              </li>
            ))}
          </ul>
        )}
        <FormErrors errors={errorsOf("renameLabel")} />
        <Card title="Add a label">
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="createLabel" />
            <Field label="Name" name="name" maxLength={40} placeholder="e.g. Refund" />
            <Select name="color" label="Colour" options={colors} defaultValue="gray" />
            <Button type="submit" disabled={busy}>
              Add label
            </Button>
          </Form>
          <FormErrors errors={errorsOf("createLabel")} />
        </Card>
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
