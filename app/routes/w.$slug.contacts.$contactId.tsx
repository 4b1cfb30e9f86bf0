import type { SubmissionResult } from "@conform-to/react";
import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { Checkbox, FormErrors } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { formatAttributeValue } from "~/domain/contacts/attributes.server";
import {
  addContactToList,
  deleteContact,
  eraseContact,
  getContactDetails,
  listContactTimeline,
  listLists,
  listTags,
  parseContactId,
  removeContactFromList,
  setConsent,
  tagContact,
  untagContact,
  type TimelineEvent,
} from "~/domain/contacts/contacts.server";
import { SUPPRESSION_REASON_LABELS } from "~/domain/contacts/suppressions.server";
import { countryName } from "~/domain/workspaces/options";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.contact.title ?? "Contact"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const id = (what: string) =>
  z.coerce
    .number({ error: `Choose ${what}.` })
    .int(`Choose ${what}.`)
    .positive(`Choose ${what}.`)
    .max(Number.MAX_SAFE_INTEGER, `Choose ${what}.`);

const Consent = z.object({
  channel: z.enum(CHANNELS, { error: "Choose a channel." }),
  status: z.enum(["granted", "withdrawn"], { error: "Choose granted or withdrawn." }),
  source: z.string().max(200, "Keep the source under 200 characters.").optional(),
});
const AddTag = z.object({
  name: z
    .string({ error: "Type a tag." })
    .trim()
    .min(1, "Type a tag.")
    .max(60, "Use at most 60 characters."),
});
const RemoveTag = z.object({ tagId: id("a tag") });
const AddList = z.object({ listId: id("a list") });
const RemoveList = z.object({ listId: id("a list") });
const Delete = z.object({ erase: z.literal("on").optional() });

function describe(event: TimelineEvent): string {
  const d = event.data;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  const channel = event.channel ? CHANNEL_LABELS[event.channel] : "";
  switch (event.type) {
    case "contact.created": {
      const by = text(d.by);
      const how =
        by === "api_key"
          ? " through the API"
          : by === "system" || by === "cli"
            ? " by an import"
            : " by a team member";
      return `Contact created${how}`;
    }
    case "contact.updated": {
      const fields = Array.isArray(d.fields) ? d.fields.map(String) : [];
      const attributes = Array.isArray(d.attributes) ? d.attributes.map(String) : [];
      const all = [...fields, ...attributes.map((a) => `attribute ${a}`)];
      return all.length ? `Details changed: ${all.join(", ")}` : "Details changed";
    }
    case "consent.granted":
      return `${channel} consent granted. Source: ${text(d.source)}`;
    case "consent.withdrawn":
      return `${channel} consent withdrawn. Source: ${text(d.source)}`;
    case "tag.added":
      return `Tagged “${text(d.tag)}”`;
    case "tag.removed":
      return `Tag “${text(d.tag)}” removed`;
    case "list.added":
      return `Added to the list “${text(d.list)}”`;
    case "list.removed":
      return `Removed from the list “${text(d.list)}”`;
    case "contact.suppressed": {
      const reason = text(d.reason) as keyof typeof SUPPRESSION_REASON_LABELS;
      const label = SUPPRESSION_REASON_LABELS[reason] ?? reason;
      return `Suppressed on ${channel || "all channels"} (${label.toLowerCase()})`;
    }
    default: {
      const words = event.type.replace(/[._]/g, " ");
      const sentence = words.charAt(0).toUpperCase() + words.slice(1);
      return channel ? `${sentence} (${channel})` : sentence;
    }
  }
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const contactId = parseContactId(args.params.contactId);
  const details = getContactDetails(wctx, contactId);
  const url = new URL(args.request.url);
  const eventsCursor = url.searchParams.get("events") ?? undefined;
  let timeline: ReturnType<typeof listContactTimeline>;
  let timelineError: string | null = null;
  try {
    timeline = listContactTimeline(wctx, contactId, { before: eventsCursor, limit: 50 });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    timelineError = error.message;
    timeline = listContactTimeline(wctx, contactId, { limit: 50 });
  }
  const tz = workspace.timezone;
  const when = (d: Date) => ({ text: formatDateTime(d, tz), iso: d.toISOString() });
  const c = details.contact;
  const write = can(role, "contacts:write");
  const memberOf = new Set(details.lists.map((l) => l.id));
  return data(
    {
      workspace: { name: workspace.name, slug: workspace.slug },
      canWrite: write,
      contact: {
        id: c.id,
        title: c.name || c.email || c.phone || `Contact #${c.id}`,
        name: c.name,
        email: c.email,
        phone: c.phone,
        country: c.country ? `${countryName(c.country)} (${c.country})` : null,
        created: when(c.createdAt),
        updated: when(c.updatedAt),
      },
      attributes: details.definitions.map((d) => ({
        key: d.key,
        label: d.label,
        value: formatAttributeValue(c.attributes[d.key]),
      })),
      consents: details.consents.map((s) => ({
        channel: s.channel,
        label: CHANNEL_LABELS[s.channel],
        status: s.status,
        source: s.source,
        at: s.at ? when(s.at) : null,
        suppressed: [
          ...new Set(s.suppressed.map((x) => SUPPRESSION_REASON_LABELS[x.reason].toLowerCase())),
        ],
      })),
      suppressed: details.suppressions.length > 0,
      tags: details.tags,
      lists: details.lists.map((l) => ({ id: l.id, name: l.name, added: when(l.addedAt) })),
      tagNames: write ? listTags(wctx, { counts: false }).map((t) => t.name) : [],
      otherLists: write
        ? listLists(wctx, { counts: false })
            .filter((l) => !memberOf.has(l.id))
            .map((l) => ({ id: l.id, name: l.name }))
        : [],
      timeline: timeline.events.map((e) => ({
        id: e.id,
        at: when(e.at),
        text: describe(e),
      })),
      timelineNext: timeline.next,
      timelinePaged: Boolean(eventsCursor) && !timelineError,
      timelineError,
      deleting: write && url.searchParams.has("delete"),
    },
    { status: timelineError ? 400 : 200 },
  );
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const contactId = parseContactId(args.params.contactId);
  const formData = await args.request.formData();
  const page = `/w/${workspace.slug}/contacts/${contactId}`;
  switch (formData.get("intent")) {
    case "consent":
      return submitForm(formData, Consent, (value) => {
        const { changed } = setConsent(wctx, contactId, value.channel, value.status, value.source);
        const label = CHANNEL_LABELS[value.channel];
        return redirectWithFlash(
          page,
          changed
            ? `${label} consent ${value.status === "granted" ? "granted" : "withdrawn"}.`
            : `${label} consent was already like that: nothing changed.`,
          changed ? "success" : "info",
        );
      });
    case "add-tag":
      return submitForm(formData, AddTag, (value) => {
        const { added } = tagContact(wctx, contactId, value.name);
        return redirectWithFlash(
          page,
          added ? `Tagged “${value.name}”.` : "The contact already has that tag.",
          added ? "success" : "info",
        );
      });
    case "remove-tag":
      return submitForm(formData, RemoveTag, (value) => {
        untagContact(wctx, contactId, value.tagId);
        return redirectWithFlash(page, "Tag removed.");
      });
    case "add-list":
      return submitForm(formData, AddList, (value) => {
        const added = addContactToList(wctx, contactId, value.listId);
        return redirectWithFlash(
          page,
          added ? "Added to the list." : "The contact is already on that list.",
          added ? "success" : "info",
        );
      });
    case "remove-list":
      return submitForm(formData, RemoveList, (value) => {
        removeContactFromList(wctx, contactId, value.listId);
        return redirectWithFlash(page, "Removed from the list.");
      });
    case "delete":
      return submitForm(formData, Delete, (value) => {
        if (value.erase) eraseContact(wctx, contactId);
        else deleteContact(wctx, contactId);
        return redirectWithFlash(
          `/w/${workspace.slug}/contacts`,
          value.erase
            ? "Contact erased. Their email and phone stay on the suppression list as unreadable hashes, so they cannot be re-added."
            : "Contact deleted.",
        );
      });
    default:
      throw data(
        { message: "This form asked for something the page does not do." },
        { status: 400 },
      );
  }
}

function messages(result: SubmissionResult<string[]> | undefined): string[] {
  return Object.values(result?.error ?? {}).flatMap((m) => m ?? []);
}

export default function ContactPage() {
  const d = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as SubmissionResult<string[]> | undefined;
  const busy = useNavigation().state === "submitting";
  const intent = result?.initialValue?.intent;
  const resultFor = (name: string) => (intent === name ? result : undefined);
  const consentResult = resultFor("consent");
  const consentChannel = consentResult?.initialValue?.channel as Channel | undefined;
  const base = `/w/${d.workspace.slug}/contacts`;
  const page = `${base}/${d.contact.id}`;
  const c = d.contact;

  return (
    <>
      <PageHeader
        title={c.title}
        description={
          <>
            <Link to={base}>Contacts</Link> · Contact #{c.id}
            {d.suppressed ? <span className="badge badge-warning">Suppressed</span> : null}
          </>
        }
        actions={
          d.canWrite ? (
            <>
              <ButtonLink to={`${page}/edit`}>Edit</ButtonLink>{" "}
              <ButtonLink to={`${page}?delete`} variant="danger">
                Delete…
              </ButtonLink>
            </>
          ) : null
        }
      />

      {d.deleting ? (
        <section className="card danger-zone" aria-labelledby="delete-heading">
          <h2 id="delete-heading" className="card-title">
            Delete {c.title}?
          </h2>
          <p>
            The contact, their consent records, tags, list memberships and timeline are deleted for
            good. This can&apos;t be undone.
          </p>
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="delete" />
            <FormErrors errors={messages(resultFor("delete"))} />
            <Checkbox
              name="erase"
              label="This is an erasure request: keep their email and phone on the suppression list (as unreadable hashes) so they are never imported or messaged again"
            />
            <div className="filters-actions">
              <Button variant="danger" type="submit" disabled={busy}>
                Delete contact
              </Button>
              <ButtonLink to={page}>Cancel</ButtonLink>
            </div>
          </Form>
        </section>
      ) : null}

      <Card title="Details">
        <dl className="role-list">
          <div>
            <dt>Name</dt>
            <dd>{c.name || <span className="muted">Not given</span>}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{c.email ?? <span className="muted">None</span>}</dd>
          </div>
          <div>
            <dt>Phone</dt>
            <dd>
              {c.phone ?? <span className="muted">None</span>}
              {c.country ? <span className="muted"> · {c.country}</span> : null}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <time dateTime={c.created.iso}>{c.created.text}</time>
            </dd>
          </div>
          <div>
            <dt>Last changed</dt>
            <dd>
              <time dateTime={c.updated.iso}>{c.updated.text}</time>
            </dd>
          </div>
        </dl>
      </Card>

      <Card title="Attributes">
        {d.attributes.length === 0 ? (
          <p className="muted">
            No custom attributes are defined.{" "}
            {d.canWrite ? <Link to={`${base}/attributes`}>Define attributes</Link> : null}
          </p>
        ) : (
          <dl className="role-list">
            {d.attributes.map((a) => (
              <div key={a.key}>
                <dt>{a.label}</dt>
                <dd>{a.value || <span className="muted">Not set</span>}</dd>
              </div>
            ))}
          </dl>
        )}
      </Card>

      <section className="admin-section" aria-labelledby="consent-heading">
        <h2 id="consent-heading">Consent</h2>
        <p className="muted">
          Messages go out on a channel only with consent there. Granting needs a source you can
          prove, such as “signed up on website form”.
        </p>
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col">Since</th>
                {d.canWrite ? <th scope="col">Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {d.consents.map((s) => {
                const errors =
                  consentChannel === s.channel ? (consentResult?.error ?? {}) : undefined;
                return (
                  <tr key={s.channel}>
                    <th scope="row">{s.label}</th>
                    <td>
                      {s.status === "granted" ? (
                        <span className="badge badge-success">Granted</span>
                      ) : s.status === "withdrawn" ? (
                        <span className="badge badge-warning">Withdrawn</span>
                      ) : (
                        <span className="muted">No consent recorded</span>
                      )}
                      {s.suppressed.length ? (
                        <span className="badge badge-warning">
                          Suppressed: {s.suppressed.join(", ")}
                        </span>
                      ) : null}
                    </td>
                    <td>{s.source ?? ""}</td>
                    <td>{s.at ? <time dateTime={s.at.iso}>{s.at.text}</time> : null}</td>
                    {d.canWrite ? (
                      <td>
                        <Form
                          // A new form after each change, so the source field starts empty.
                          key={`${s.channel}:${s.status ?? ""}:${s.at?.iso ?? ""}`}
                          method="post"
                          action={page}
                          className="inline-form"
                        >
                          <input type="hidden" name="intent" value="consent" />
                          <input type="hidden" name="channel" value={s.channel} />
                          <label className="visually-hidden" htmlFor={`status-${s.channel}`}>
                            New {s.label} consent status
                          </label>
                          <select
                            id={`status-${s.channel}`}
                            name="status"
                            defaultValue={s.status === "granted" ? "withdrawn" : "granted"}
                          >
                            <option value="granted">Granted</option>
                            <option value="withdrawn">Withdrawn</option>
                          </select>
                          <label className="visually-hidden" htmlFor={`source-${s.channel}`}>
                            Source of the {s.label} consent change
                          </label>
                          <input
                            id={`source-${s.channel}`}
                            name="source"
                            type="text"
                            maxLength={200}
                            placeholder="Source, e.g. website form"
                            aria-invalid={errors ? true : undefined}
                          />
                          <Button variant="secondary" type="submit" disabled={busy}>
                            Save<span className="visually-hidden"> {s.label} consent</span>
                          </Button>
                        </Form>
                        {errors ? (
                          <p className="field-error">
                            {Object.values(errors)
                              .flatMap((m) => m ?? [])
                              .join(" ")}
                          </p>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <section className="admin-section" aria-labelledby="tags-heading">
        <h2 id="tags-heading">Tags</h2>
        {d.tags.length === 0 ? <p className="muted">No tags.</p> : null}
        <ul className="checklist">
          {d.tags.map((t) => (
            <li key={t.id}>
              <Link to={`${base}?tag=${t.id}`}>{t.name}</Link>
              {d.canWrite ? (
                <Form method="post" action={page} className="inline-form">
                  <input type="hidden" name="intent" value="remove-tag" />
                  <input type="hidden" name="tagId" value={t.id} />
                  <Button variant="ghost" type="submit" disabled={busy}>
                    Remove<span className="visually-hidden"> tag {t.name}</span>
                  </Button>
                </Form>
              ) : null}
            </li>
          ))}
        </ul>
        <FormErrors errors={[...messages(resultFor("remove-tag"))]} />
        {d.canWrite ? (
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="add-tag" />
            <label htmlFor="new-tag">Add a tag</label>
            <input
              id="new-tag"
              name="name"
              type="text"
              maxLength={60}
              list="tag-names"
              autoComplete="off"
            />
            <datalist id="tag-names">
              {d.tagNames.map((n) => (
                <option key={n} value={n} />
              ))}
            </datalist>
            <Button variant="secondary" type="submit" disabled={busy}>
              Add tag
            </Button>
          </Form>
        ) : null}
        <FormErrors errors={messages(resultFor("add-tag"))} />
      </section>

      <section className="admin-section" aria-labelledby="lists-heading">
        <h2 id="lists-heading">Lists</h2>
        {d.lists.length === 0 ? <p className="muted">Not on any list.</p> : null}
        <ul className="checklist">
          {d.lists.map((l) => (
            <li key={l.id}>
              <Link to={`${base}?list=${l.id}`}>{l.name}</Link>{" "}
              <span className="muted">
                since <time dateTime={l.added.iso}>{l.added.text}</time>
              </span>
              {d.canWrite ? (
                <Form method="post" action={page} className="inline-form">
                  <input type="hidden" name="intent" value="remove-list" />
                  <input type="hidden" name="listId" value={l.id} />
                  <Button variant="ghost" type="submit" disabled={busy}>
                    Remove<span className="visually-hidden"> from {l.name}</span>
                  </Button>
                </Form>
              ) : null}
            </li>
          ))}
        </ul>
        <FormErrors
          errors={[...messages(resultFor("remove-list")), ...messages(resultFor("add-list"))]}
        />
        {d.canWrite ? (
          d.otherLists.length ? (
            <Form method="post" action={page} className="inline-form">
              <input type="hidden" name="intent" value="add-list" />
              <label htmlFor="add-list">Add to list</label>
              <select id="add-list" name="listId">
                {d.otherLists.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
              <Button variant="secondary" type="submit" disabled={busy}>
                Add
              </Button>
            </Form>
          ) : (
            <p className="muted">
              <Link to={`${base}/lists`}>Create a list</Link> to add this contact to it.
            </p>
          )
        ) : null}
      </section>

      <section className="admin-section" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <FormErrors errors={d.timelineError ? [d.timelineError] : undefined} />
        {d.timeline.length === 0 ? (
          <EmptyState title="Nothing yet">
            Consent changes, edits and messages appear here.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Timeline, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What happened</th>
                </tr>
              </thead>
              <tbody>
                {d.timeline.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <time dateTime={e.at.iso}>{e.at.text}</time>
                    </td>
                    <td>{e.text}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {d.timelinePaged || d.timelineNext ? (
          <nav className="pager" aria-label="Timeline pages">
            {d.timelinePaged ? <Link to={page}>Newest</Link> : <span />}
            {d.timelineNext ? (
              <Link to={`${page}?events=${encodeURIComponent(d.timelineNext)}`} rel="next">
                Older
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
