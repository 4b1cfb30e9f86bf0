/** One rule as the pages receive it (from app/domain/privacy/retention-policy.ts). */
interface RetentionRule {
  data: string;
  period: string;
  then: string;
}

/** The retention rules as a table (workspace and admin pages). */
export function RetentionRulesTable({
  rules,
  caption,
}: {
  rules: readonly RetentionRule[];
  caption: string;
}) {
  return (
    <div className="table-scroll">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Data</th>
            <th scope="col">Kept for</th>
            <th scope="col">Then</th>
          </tr>
        </thead>
        <tbody>
          {rules.map((rule) => (
            <tr key={rule.data}>
              <td>{rule.data}</td>
              <td>{rule.period}</td>
              <td>{rule.then}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
