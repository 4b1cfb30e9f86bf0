import { useId } from "react";

/**
 * Report charts as plain SVG with a fixed viewBox, drawn the same on the server and in the
 * browser (recharts 3 renders nothing on the server: recharts/recharts#5997), so a report
 * reads without JavaScript and hydration never disagrees. The SVG scales to its container;
 * each chart has a title and description for screen readers, hover titles on its marks, and
 * the page shows the same numbers in a table next to it.
 */

export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

/** "57.1%", or "—" when there is nothing to divide by. */
export function formatRate(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1).replace(/\.0$/, "")}%`;
}

/** A span of time, short: "45 s", "12 min", "3 h 5 min", "14 h", "2 d 4 h"; "—" for none. */
export function formatDurationMs(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  // Past ten hours the minutes are noise.
  if (h < 10) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  if (h < 24) return `${Math.round(min / 60)} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const WIDTH = 640;

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const scaled = rough / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

function yTicks(max: number): number[] {
  if (max <= 0) return [0, 1];
  const step = Math.max(1, niceStep(max / 4));
  const top = Math.ceil(max / step) * step;
  return Array.from({ length: top / step + 1 }, (_, i) => i * step);
}

export interface FunnelStep {
  label: string;
  value: number;
}

/** Horizontal bars, one per step, as long as its share of the largest. */
export function FunnelChart({
  title,
  description,
  steps,
}: {
  title: string;
  description: string;
  steps: FunnelStep[];
}) {
  const id = useId();
  const rowHeight = 30;
  const labelWidth = 130;
  const valueWidth = 70;
  const height = steps.length * rowHeight + 4;
  const max = Math.max(1, ...steps.map((s) => s.value));
  const barSpace = WIDTH - labelWidth - valueWidth;
  return (
    <figure className="chart chart-funnel">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        className="chart-svg"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        {steps.map((step, i) => {
          const y = i * rowHeight + 4;
          const width = step.value > 0 ? Math.max(2, (step.value / max) * barSpace) : 0;
          return (
            <g key={step.label}>
              <text x={labelWidth - 8} y={y + 17} textAnchor="end" className="chart-label">
                {step.label}
              </text>
              <rect
                x={labelWidth}
                y={y + 3}
                width={width}
                height={rowHeight - 10}
                rx={3}
                className="chart-fill-1"
              >
                <title>{`${step.label}: ${formatCount(step.value)}`}</title>
              </rect>
              <text x={labelWidth + width + 6} y={y + 17} className="chart-value">
                {formatCount(step.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export interface ChartSeries {
  label: string;
  /** One per label; null where there is no value (a gap in the line, not a zero). */
  values: (number | null)[];
}

/** The runs of consecutive points that have a value, as polyline point lists. */
function lineRuns(
  values: readonly (number | null)[],
  x: (i: number) => number,
  y: (v: number) => number,
) {
  const runs: string[][] = [];
  let run: string[] | null = null;
  values.forEach((v, i) => {
    if (v === null) {
      run = null;
      return;
    }
    if (!run) runs.push((run = []));
    run.push(`${x(i)},${y(v)}`);
  });
  return runs.map((points) => points.join(" "));
}

/** Lines over time (hours or days), one per series, with a legend below. */
export function LineChart({
  title,
  description,
  labels,
  series,
}: {
  title: string;
  description: string;
  /** One per point, shown under the axis (a few of them) and in the hover titles. */
  labels: string[];
  series: ChartSeries[];
}) {
  const id = useId();
  const height = 220;
  const left = 48;
  // Room for half an axis label at each end.
  const right = 40;
  const top = 10;
  const bottom = 28;
  const plotWidth = WIDTH - left - right;
  const plotHeight = height - top - bottom;
  const ticks = yTicks(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))));
  const top_ = ticks.at(-1)!;
  const count = labels.length;
  const x = (i: number) => left + (count > 1 ? (i / (count - 1)) * plotWidth : plotWidth / 2);
  const y = (value: number) => top + plotHeight - (value / top_) * plotHeight;
  // At most six axis labels, evenly spaced from the first point.
  const labelEvery = Math.max(1, Math.ceil((count - 1) / 5));
  const dots = count <= 72;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        className="chart-svg"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={left} x2={WIDTH - right} y1={y(tick)} y2={y(tick)} className="chart-grid" />
            <text x={left - 6} y={y(tick) + 4} textAnchor="end" className="chart-axis">
              {formatCount(tick)}
            </text>
          </g>
        ))}
        {labels.map((label, i) =>
          i % labelEvery === 0 ? (
            <text key={i} x={x(i)} y={height - 8} textAnchor="middle" className="chart-axis">
              {label}
            </text>
          ) : null,
        )}
        {series.map((s, n) => (
          <g key={s.label} className={`chart-series-${(n % 6) + 1}`}>
            {lineRuns(s.values, x, y).map((points) => (
              <polyline key={points} points={points} className="chart-line">
                <title>{s.label}</title>
              </polyline>
            ))}
            {s.values.map((v, i) =>
              v !== null && (dots || (s.values[i - 1] == null && s.values[i + 1] == null)) ? (
                <circle key={i} cx={x(i)} cy={y(v)} r={3} className="chart-dot">
                  <title>{`${labels[i]}: ${s.label} ${formatCount(v)}`}</title>
                </circle>
              ) : null,
            )}
          </g>
        ))}
      </svg>
      <figcaption>
        <ul className="chart-legend">
          {series.map((s, n) => (
            <li key={s.label}>
              <span className={`chart-swatch chart-fill-${(n % 6) + 1}`} aria-hidden="true" />
              {s.label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "26 Nov" for a local day "2026-11-26". */
export function formatLocalDay(day: string): string {
  const [, month, date] = day.split("-").map(Number);
  return `${date} ${MONTHS[(month ?? 1) - 1]}`;
}

/** "26 Nov 14:00" for a local hour "2026-11-26T14:00". */
export function formatLocalHour(hour: string): string {
  return `${formatLocalDay(hour.slice(0, 10))} ${hour.slice(11, 16)}`;
}

/** One point of a message-activity series: a day or an hour and what happened in it. */
export interface ActivityPoint {
  /** The day ("2026-11-26") or hour (ISO) the numbers are for. */
  at: string;
  label: string;
  sent: number;
  delivered: number;
  seen: number;
  clicked: number;
  failed: number;
}

/**
 * Sent, delivered, read/opened, clicked and failed over time: the line chart, then the same
 * numbers as a table (collapsed) for keyboards, screen readers and copying.
 */
export function ActivityOverTime({
  title,
  description,
  seenLabel,
  periodHeader,
  tableSummary,
  points,
  children,
}: {
  title: string;
  description: string;
  /** "Read", "Opened" or "Read / opened": what `seen` means on this channel. */
  seenLabel: string;
  /** "Day" or "Hour". */
  periodHeader: string;
  tableSummary: string;
  points: ActivityPoint[];
  /** Shown between the chart and the table (a note about the range, say). */
  children?: React.ReactNode;
}) {
  const columns = [
    ["Sent", "sent"],
    ["Delivered", "delivered"],
    [seenLabel, "seen"],
    ["Clicked", "clicked"],
    ["Failed", "failed"],
  ] as const;
  return (
    <>
      <LineChart
        title={title}
        description={description}
        labels={points.map((p) => p.label)}
        series={columns.map(([label, key]) => ({ label, values: points.map((p) => p[key]) }))}
      />
      {children}
      <details>
        <summary>{tableSummary}</summary>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{periodHeader}</th>
                {columns.map(([label]) => (
                  <th key={label} scope="col" className="num">
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr key={p.at}>
                  <th scope="row">
                    <time dateTime={p.at}>{p.label}</time>
                  </th>
                  {columns.map(([label, key]) => (
                    <td key={label} className="num">
                      {formatCount(p[key])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

/** Headline numbers as a term/value grid: [label, already formatted value]. */
export function StatGrid({ stats }: { stats: readonly (readonly [string, string])[] }) {
  return (
    <dl className="stat-grid">
      {stats.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
