/**
 * Whether `today` is an anniversary of `date` (both YYYY-MM-DD), repeating every
 * `every` months or days. Monthly: the same day of the month, or the month's last day
 * when the date's day does not exist in it (Jan 31 → Feb 28). The date itself is not.
 */
export function isAnniversary(date: string, today: string, unit: 'months' | 'days', every: number): boolean {
  if (unit === 'days') {
    const days = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`)) / 86_400_000);
    return days > 0 && days % every === 0;
  }
  const [y1, m1, d1] = date.split('-').map(Number) as [number, number, number];
  const [y2, m2, d2] = today.split('-').map(Number) as [number, number, number];
  const months = (y2 - y1) * 12 + (m2 - m1);
  if (months <= 0 || months % every !== 0) return false;
  const lastDay = new Date(Date.UTC(y2, m2, 0)).getUTCDate();
  return d2 === d1 || (d1 > d2 && d2 === lastDay);
}
