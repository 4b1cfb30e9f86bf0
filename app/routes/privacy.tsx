import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/ui/layout";
import { currentPolicy } from "~/domain/privacy/policy.server";

export const meta: MetaFunction = () => [{ title: "Privacy policy — Pleisys Engage" }];

export function loader() {
  return { policy: currentPolicy() };
}

export default function PrivacyPolicy() {
  const { policy } = useLoaderData<typeof loader>();
  return (
    <article className="prose">
      <PageHeader title={policy.title} description={`Effective date: ${policy.effectiveDate}`} />
      <p>
        To see, copy, correct or erase your personal data, or to stop messages,{" "}
        <Link to="/dsar">make a privacy request</Link>.
      </p>
      {policy.blocks.map((block, i) => {
        switch (block.kind) {
          case "heading":
            return block.level === 2 ? (
              <h2 key={i}>{block.text}</h2>
            ) : (
              <h3 key={i}>{block.text}</h3>
            );
          case "paragraph":
            return <p key={i}>{block.text}</p>;
          case "list":
            return (
              <ul key={i}>
                {block.items.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
            );
          case "table":
            return (
              <table key={i} className="table">
                <thead>
                  <tr>
                    {block.header.map((h) => (
                      <th key={h} scope="col">
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {block.rows.map((row) => (
                    <tr key={row.join("|")}>
                      {row.map((cell, j) => (
                        <td key={j}>{cell}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            );
        }
      })}
    </article>
  );
}
