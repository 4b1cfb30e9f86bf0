import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PolicyBlocks } from "~/components/policy-document";
import { Alert } from "~/components/ui/alert";
import { PageHeader } from "~/components/ui/layout";
import { cookiesWeSet } from "~/domain/privacy/cookies.server";
import {
  getPolicyVersion,
  listPolicyVersions,
  upcomingVersion,
  versionInForce,
} from "~/domain/privacy/policy-versions.server";
import { formatCalendarDay } from "~/lib/format";

export const meta: MetaFunction = () => [{ title: "Privacy policy — Pleisys Engage" }];

export function loader() {
  const now = new Date();
  const inForce = getPolicyVersion(versionInForce(now).version);
  const upcoming = upcomingVersion(now);
  return {
    inForce: {
      version: inForce.version,
      effectiveOn: formatCalendarDay(inForce.effectiveDate),
      blocks: inForce.blocks,
    },
    upcoming: upcoming
      ? { version: upcoming.version, effectiveOn: formatCalendarDay(upcoming.effectiveDate) }
      : null,
    history: listPolicyVersions().map((v) => ({
      version: v.version,
      effectiveDate: v.effectiveDate,
      effectiveOn: formatCalendarDay(v.effectiveDate),
      publishedOn: formatCalendarDay(v.publishedAt.toISOString().slice(0, 10)),
      status:
        v.version === inForce.version
          ? "In force"
          : v.version > inForce.version
            ? "Upcoming"
            : "Replaced",
    })),
    cookies: cookiesWeSet(),
  };
}

export default function PrivacyPolicy() {
  const { inForce, upcoming, history, cookies } = useLoaderData<typeof loader>();
  return (
    <article className="prose">
      <PageHeader
        title="Privacy policy"
        description={`Version ${inForce.version}, in force since ${inForce.effectiveOn}.`}
      />
      {upcoming ? (
        <Alert tone="info" title={`A new version takes effect on ${upcoming.effectiveOn}`}>
          <p>
            {`Version ${upcoming.version} replaces this policy on ${upcoming.effectiveOn}.`}{" "}
            <Link to={`/privacy/v/${upcoming.version}`}>{`Read version ${upcoming.version}`}</Link>.
          </p>
        </Alert>
      ) : null}
      <p>
        To see, copy, correct or erase your personal data, or to stop messages,{" "}
        <Link to="/dsar">make a privacy request</Link>.
      </p>
      <PolicyBlocks blocks={inForce.blocks} />

      <section aria-labelledby="cookies-heading">
        <h2 id="cookies-heading">Cookies we set</h2>
        <p>
          Only the functional cookies below, all set by engage.pleisys.com itself. We use no
          advertising, analytics or third-party cookies.
        </p>
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Purpose</th>
                <th scope="col">Lifetime</th>
                <th scope="col">Attributes</th>
              </tr>
            </thead>
            <tbody>
              {cookies.map((cookie) => (
                <tr key={cookie.name}>
                  <th scope="row">
                    <code>{cookie.name}</code>
                  </th>
                  <td>{cookie.purpose}</td>
                  <td>{cookie.lifetime}</td>
                  <td>{cookie.attributes}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Policy history</h2>
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Effective</th>
                <th scope="col">Published</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {history.map((v) => (
                <tr key={v.version}>
                  <th scope="row">
                    <Link to={`/privacy/v/${v.version}`}>{`Version ${v.version}`}</Link>
                  </th>
                  <td>
                    <time dateTime={v.effectiveDate}>{v.effectiveOn}</time>
                  </td>
                  <td>{v.publishedOn}</td>
                  <td>{v.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </article>
  );
}
