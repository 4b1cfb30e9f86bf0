import { Link } from "@remix-run/react";
import { Card } from "~/components/ui/layout";
import type { ContactPageData } from "./route";

/** The contact's own fields and custom attributes. */
export function DetailsCards({ d, base }: { d: ContactPageData; base: string }) {
  const c = d.contact;
  return (
    <>
      <Card title="Details">
        <dl className="details-grid">
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
          <dl className="details-grid">
            {d.attributes.map((a) => (
              <div key={a.key}>
                <dt>{a.label}</dt>
                <dd>{a.value || <span className="muted">Not set</span>}</dd>
              </div>
            ))}
          </dl>
        )}
      </Card>
    </>
  );
}
