import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";

export interface UsageChartDay {
  /** "3 May" */
  label: string;
  email: number;
  whatsapp: number;
  sms: number;
  telegram: number;
}

const SERIES = [
  { key: "whatsapp", name: "WhatsApp", fill: "#1a7f37" },
  { key: "sms", name: "SMS", fill: "#9a6700" },
  { key: "email", name: "Email", fill: "#2b50d6" },
  { key: "telegram", name: "Telegram", fill: "#0b7a99" },
] as const;

/**
 * Messages per day, stacked by channel. A fixed size, so it needs no measuring; recharts draws
 * it in the browser, and the table beside it carries the same numbers for everyone else (the
 * chart is hidden from assistive technology).
 */
export function UsageChart({ days }: { days: UsageChartDay[] }) {
  return (
    <div className="usage-chart" aria-hidden="true">
      <BarChart width={720} height={240} data={days}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" interval="preserveStartEnd" tick={{ fontSize: 12 }} />
        <YAxis allowDecimals={false} width={48} tick={{ fontSize: 12 }} />
        <Tooltip />
        <Legend />
        {SERIES.map((s) => (
          <Bar key={s.key} dataKey={s.key} name={s.name} stackId="messages" fill={s.fill} />
        ))}
      </BarChart>
    </div>
  );
}
