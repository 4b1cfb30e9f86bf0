import { Form } from "@remix-run/react";
import { Button } from "~/components/ui/button";
import type { Channel } from "~/lib/channels";
import { resultMessages, type FormResult } from "~/lib/form-result";
import type { ContactPageData } from "./route";

/** Consent per channel, each row with its own small form to change it. */
export function ConsentSection({
  d,
  page,
  busy,
  consentResult,
}: {
  d: ContactPageData;
  page: string;
  busy: boolean;
  consentResult: FormResult | undefined;
}) {
  const consentChannel = consentResult?.initialValue?.channel as Channel | undefined;
  return (
    <section className="admin-section" aria-labelledby="consent-heading">
      <h2 id="consent-heading">Consent</h2>
      <p className="muted">
        Messages go out on a channel only with consent there. Granting needs a source you can prove,
        such as “signed up on website form”.
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
                        <p className="field-error">{resultMessages(consentResult).join(" ")}</p>
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
  );
}
