import {
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { requireAdmin } from "~/auth/admin-access.server";
import { Checkbox, TextArea, useFormResult } from "~/components/form";
import { PolicyBlocks } from "~/components/policy-document";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import {
  acceptanceCounts,
  earliestEffectiveDate,
  listPolicyVersions,
  POLICY_MAX_BYTES,
  PolicyPublishError,
  previewPolicy,
  publishPolicy,
  shippedVersionNumbers,
  startPolicyNotices,
  versionInForce,
  type PublishInput,
} from "~/domain/privacy/policy-versions.server";
import { ValidationError, type FieldErrors } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure, readIntent } from "~/lib/form.server";
import { fieldErrorsOf, submittedOf, type FormResult } from "~/lib/form-result";
import { formatCalendarDay } from "~/lib/format";

export const meta: MetaFunction = () => [
  { title: "Privacy policy — Platform admin — Pleisys Engage" },
];

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  const now = new Date();
  const inForce = versionInForce(now).version;
  const { byVersion, activeUsers } = acceptanceCounts();
  const shipped = shippedVersionNumbers();
  return {
    activeUsers,
    earliest: earliestEffectiveDate(now),
    nextVersion: (listPolicyVersions()[0]?.version ?? 0) + 1,
    versions: listPolicyVersions().map((v) => ({
      version: v.version,
      effectiveDate: v.effectiveDate,
      effectiveOn: formatCalendarDay(v.effectiveDate),
      publishedOn: formatCalendarDay(v.publishedAt.toISOString().slice(0, 10)),
      publishedBy:
        v.publishedBy ?? (shipped.has(v.version) ? "Shipped with the product" : "Operator (CLI)"),
      notified: v.notified,
      accepted: byVersion.get(v.version) ?? 0,
      status: v.version === inForce ? "In force" : v.version > inForce ? "Upcoming" : "Replaced",
    })),
  };
}

type Draft = PublishInput;

/** The preview that comes back beside the draft, failed or not, so the admin can read it. */
interface PreviewExtra {
  blocks: ReturnType<typeof previewPolicy>["blocks"];
}

/** Preview (the default, also for Enter in a field) and publish, with their fields. */
const INTENTS = { preview: true, publish: true } as const;

/** The text comes from the uploaded file when one was chosen, else from the text area. */
async function readDraft(form: FormData): Promise<{ draft: Draft } | { errors: FieldErrors }> {
  const effectiveDate = String(form.get("effectiveDate") ?? "");
  const file = form.get("file");
  if (file instanceof File && file.size > 0) {
    if (file.size > POLICY_MAX_BYTES) {
      return {
        errors: { file: [`The file is too large: at most ${POLICY_MAX_BYTES / 1000} KB.`] },
      };
    }
    const text = await file.text();
    if (text.includes("\u0000")) return { errors: { file: ["Upload a text (Markdown) file."] } };
    return { draft: { markdown: text, effectiveDate } };
  }
  return { draft: { markdown: String(form.get("markdown") ?? ""), effectiveDate } };
}

export async function action(args: ActionFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const form = await args.request.formData();
  const intent = readIntent(form, INTENTS, "preview");
  const read = await readDraft(form);
  if ("errors" in read) {
    return formFailure<PreviewExtra>(new ValidationError("Check the file.", read.errors), {
      fields: {
        intent,
        markdown: String(form.get("markdown") ?? ""),
        effectiveDate: String(form.get("effectiveDate") ?? ""),
      },
      extra: { blocks: [] },
    });
  }
  const { draft } = read;
  const preview = previewPolicy(ctx.now(), draft);
  const problems: FieldErrors = { ...preview.problems };
  if (intent === "publish") {
    if (form.get("confirm") !== "on") {
      problems.confirm = ["Tick the box to confirm that you have checked the preview."];
    }
    if (Object.keys(problems).length === 0) {
      try {
        const published = publishPolicy(ctx, draft);
        startPolicyNotices();
        return redirectWithFlash(
          "/admin/policy",
          `Version ${published.version} is published and takes effect on ${formatCalendarDay(published.effectiveDate)}. The notice emails are on their way.`,
        );
      } catch (error) {
        if (!(error instanceof PolicyPublishError)) throw error;
        Object.assign(problems, error.fieldErrors);
      }
    }
  }
  const fields = { intent, ...draft };
  if (Object.keys(problems).length > 0) {
    return formFailure<PreviewExtra>(new ValidationError("Check the draft.", problems), {
      fields,
      extra: { blocks: preview.blocks },
    });
  }
  // A preview is not a failure, but it answers in the same shape: what was typed, and beside it
  // the rendered blocks.
  const reply: FormResult<PreviewExtra> = {
    status: "success",
    initialValue: fields,
    extra: { blocks: preview.blocks },
  };
  return reply;
}

export default function AdminPolicyPage() {
  const { versions, activeUsers, earliest, nextVersion } = useLoaderData<typeof loader>();
  const result = useFormResult<PreviewExtra>();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const errors = fieldErrorsOf(result);
  const typed = submittedOf(result);
  const draft: Draft | null = result
    ? { markdown: String(typed.markdown ?? ""), effectiveDate: String(typed.effectiveDate ?? "") }
    : null;
  const draftReady =
    draft &&
    draft.markdown.trim() !== "" &&
    !errors.markdown &&
    !errors.effectiveDate &&
    !errors.file;
  return (
    <>
      <section aria-labelledby="policy-versions-heading">
        <h2 id="policy-versions-heading">Privacy policy versions</h2>
        <p className="muted">
          {activeUsers === 1 ? "1 active user" : `${activeUsers} active users`}. Acceptances are
          recorded at sign-up and when someone acknowledges the banner of a new version.
        </p>
        <div className="table-scroll">
          <table className="table admin-table">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Effective</th>
                <th scope="col">Published</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Notified
                </th>
                <th scope="col" className="num">
                  Accepted
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version}>
                  <th scope="row">
                    <Link to={`/privacy/v/${v.version}`}>{`Version ${v.version}`}</Link>
                  </th>
                  <td>
                    <time dateTime={v.effectiveDate}>{v.effectiveOn}</time>
                  </td>
                  <td>
                    {v.publishedOn}
                    <br />
                    <span className="muted">{v.publishedBy}</span>
                  </td>
                  <td>{v.status}</td>
                  <td className="num">{v.version === 1 ? "—" : v.notified}</td>
                  <td className="num">{v.accepted}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <Card title="Publish a new version">
        <p>
          Write the new policy in Markdown (headings with #, lists, | tables |, [links](https://…),
          **bold**). HTML is shown as typed, never run. The new version takes effect at least 14
          days after today and every active user is emailed a notice; signed-in users also see a
          banner until the effective date.
        </p>
        <Form method="post" encType="multipart/form-data">
          <TextArea
            name="markdown"
            label="Policy text (Markdown)"
            rows={16}
            defaultValue={draft?.markdown}
            errors={errors.markdown}
          />
          <Field
            type="file"
            name="file"
            label="Or upload a Markdown file"
            hint="When a file is chosen, its text is used instead of the text above."
            accept=".md,.markdown,.txt,text/markdown,text/plain"
            errors={errors.file}
          />
          <Field
            type="date"
            name="effectiveDate"
            label="Effective date"
            hint={`At least 14 days from today (UTC): ${formatCalendarDay(earliest)} or later.`}
            min={earliest}
            required
            defaultValue={draft?.effectiveDate ?? earliest}
            errors={errors.effectiveDate}
          />
          <Button type="submit" name="intent" value="preview" variant="secondary" disabled={busy}>
            Preview
          </Button>
        </Form>
      </Card>

      {draft && draftReady ? (
        <Card title={`Preview of version ${nextVersion}`}>
          <p className="muted">
            Takes effect on {formatCalendarDay(draft.effectiveDate)}. This is how it will read on
            /privacy.
          </p>
          <div className="prose">
            <PolicyBlocks blocks={result?.extra?.blocks ?? []} />
          </div>
          <Form method="post" encType="multipart/form-data">
            <input type="hidden" name="markdown" value={draft.markdown} />
            <input type="hidden" name="effectiveDate" value={draft.effectiveDate} />
            <Checkbox
              name="confirm"
              label={`I have checked the preview. Publish version ${nextVersion}, effective ${formatCalendarDay(draft.effectiveDate)}, and email ${activeUsers === 1 ? "the 1 active user" : `all ${activeUsers} active users`}.`}
              errors={errors.confirm}
            />
            <Button type="submit" name="intent" value="publish" disabled={busy}>
              {`Publish version ${nextVersion}`}
            </Button>
          </Form>
        </Card>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
