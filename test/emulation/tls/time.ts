/**
 * `time.Time.MarshalText()` of Go: RFC 3339 with nanoseconds (trailing zeros trimmed) in the
 * provider process's local zone, "Z" when the offset is zero. The provider stores NotBefore /
 * NotAfter this way in `validityStartTime` / `validityEndTime`.
 */
function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export function rfc3339Nano(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const ms = local.getUTCMilliseconds();
  const fraction = ms === 0 ? "" : `.${pad(ms, 3).replace(/0+$/, "")}`;
  const sign = offsetMinutes >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}${zone}`
  );
}

/** Go's `time.Parse(time.RFC3339, s)` as ModifyPlan uses it; undefined when unparseable. */
export function parseRfc3339(s: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
