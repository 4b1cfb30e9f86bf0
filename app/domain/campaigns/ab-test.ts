/**
 * A/B tests: the sample's variants are compared on one rate (delivered, read, opened, clicked
 * or replied per message sent) and the best goes to the rest of the audience.
 */

export type AbMetric = "delivered" | "read" | "opened" | "clicked" | "replied";

export interface VariantStats {
  key: string;
  sent: number;
  delivered: number;
  read: number;
  opened: number;
  clicked: number;
  replied: number;
}

export function rateOf(stats: VariantStats, metric: AbMetric): number {
  return stats.sent === 0 ? 0 : stats[metric] / stats.sent;
}

/**
 * The winner: the highest rate; on a tie the variant with more evidence (more sent), then the
 * earlier key. Variants that sent nothing cannot win unless none sent anything (then "A").
 */
export function pickWinner(stats: readonly VariantStats[], metric: AbMetric): string {
  const candidates = stats.filter((s) => s.sent > 0);
  if (candidates.length === 0)
    return [...stats].sort((a, b) => a.key.localeCompare(b.key))[0]?.key ?? "A";
  return [...candidates].sort(
    (a, b) =>
      rateOf(b, metric) - rateOf(a, metric) || b.sent - a.sent || a.key.localeCompare(b.key),
  )[0]!.key;
}
