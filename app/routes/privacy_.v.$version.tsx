import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PolicyBlocks } from "~/components/policy-document";
import { PageHeader } from "~/components/ui/layout";
import { getPolicyVersion, versionInForce } from "~/domain/privacy/policy-versions.server";
import { NotFoundError } from "~/lib/errors";
import { formatCalendarDay } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: data
      ? `Privacy policy version ${data.version} — Pleisys Engage`
      : "Privacy policy — Pleisys Engage",
  },
];

export function loader({ params }: LoaderFunctionArgs) {
  if (!/^[1-9]\d{0,8}$/.test(params.version ?? "")) throw new NotFoundError("Policy version");
  const policy = getPolicyVersion(Number(params.version));
  const inForce = versionInForce(new Date()).version;
  const effectiveOn = formatCalendarDay(policy.effectiveDate);
  return {
    version: policy.version,
    blocks: policy.blocks,
    status:
      policy.version === inForce
        ? `In force since ${effectiveOn}.`
        : policy.version > inForce
          ? `Takes effect on ${effectiveOn}; until then the current version applies.`
          : `In force from ${effectiveOn} until it was replaced by a later version.`,
  };
}

export default function PrivacyPolicyVersion() {
  const { version, blocks, status } = useLoaderData<typeof loader>();
  return (
    <article className="prose">
      <PageHeader
        title={`Privacy policy, version ${version}`}
        description={status}
        actions={<Link to="/privacy">Current policy and history</Link>}
      />
      <PolicyBlocks blocks={blocks} />
    </article>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
