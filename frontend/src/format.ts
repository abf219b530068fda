// Human-readable numbers, units and times for cards, charts and tables.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function trim(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs === 0) return "0";
  if (abs >= 1000) return Math.round(n).toLocaleString("en-US");
  return Number(n.toPrecision(digits)).toString();
}

/** A value with its unit made readable; `digits` is the significant digits kept (chart axes raise it
 * until neighbouring labels differ). */
export function formatValue(value: number | null | undefined, unit = "", digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const u = unit.trim();
  const lower = u.toLowerCase();
  if (lower === "bytes" || lower === "b") {
    let v = value;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
      v /= 1024;
      i++;
    }
    return `${trim(v, digits)} ${BYTE_UNITS[i]}`;
  }
  if (lower === "bytes/s" || lower === "b/s") return `${formatValue(value, "bytes", digits)}/s`;
  if (lower === "ms" && Math.abs(value) >= 1000) return formatSeconds(value / 1000, digits);
  if (lower === "s" || lower === "seconds" || lower === "sec") return formatSeconds(value, digits);
  if (lower === "celsius" || lower === "°c" || lower === "c") return `${trim(value, digits)} °C`;
  if (lower === "%" || lower === "percent") return `${trim(value, digits)}%`;
  if (lower === "bool" || lower === "boolean") return value ? "yes" : "no";
  if (lower === "count") return trim(value, digits);
  return u ? `${trim(value, digits)} ${u}` : trim(value, digits);
}

/** A number of seconds in the largest unit that keeps it readable: "45 s", "12 min", "3.5 h", "12 d". */
export function formatSeconds(seconds: number, digits = 3): string {
  const abs = Math.abs(seconds);
  if (abs < 60) return `${trim(seconds, digits)} s`;
  if (abs < 3600) return `${trim(seconds / 60, digits)} min`;
  if (abs < 86400) return `${trim(seconds / 3600, digits)} h`;
  return `${trim(seconds / 86400, digits)} d`;
}

/** Axis labels for tick values: enough digits that neighbouring ticks never read the same. */
export function axisLabels(values: number[], unit: string): string[] {
  let labels = values.map((v) => formatValue(v, unit));
  for (let digits = 4; digits <= 7 && new Set(labels).size < labels.length; digits++) labels = values.map((v) => formatValue(v, unit, digits));
  return labels;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${trim(s, 3)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function parseTs(ts: string | number | null | undefined): number | null {
  if (ts === null || ts === undefined || ts === "") return null;
  if (typeof ts === "number") return ts > 1e12 ? ts : ts * 1000;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? null : ms;
}

export function timeAgo(ts: string | number | null | undefined, now = Date.now()): string {
  const ms = parseTs(ts);
  if (ms === null) return "never";
  const diff = Math.round((now - ms) / 1000);
  if (diff < 5) return "just now";
  if (diff < 60) return `${diff}s ago`;
  if (diff < 3600) return `${Math.floor(diff / 60)}m ago`;
  if (diff < 86400) return `${Math.floor(diff / 3600)}h ago`;
  return `${Math.floor(diff / 86400)}d ago`;
}

export function formatDateTime(ts: string | number | null | undefined): string {
  const ms = parseTs(ts);
  if (ms === null) return "—";
  return new Date(ms).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function formatInterval(seconds: number | undefined): string {
  if (!seconds) return "—";
  if (seconds < 60) return `every ${seconds}s`;
  if (seconds % 3600 === 0) return `every ${seconds / 3600}h`;
  if (seconds % 60 === 0) return `every ${seconds / 60}m`;
  return `every ${seconds}s`;
}

export function labelText(labels: Record<string, string> | undefined): string {
  if (!labels) return "";
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

export function metricTitle(name: string): string {
  const words = name.split(/[._\s]+/).filter(Boolean).map((w) => ACRONYMS[w.toLowerCase()] ?? w);
  const s = words.join(" ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const ACRONYMS: Record<string, string> = { cpu: "CPU", tls: "TLS", dns: "DNS", http: "HTTP", rtt: "RTT", ttl: "TTL", ssh: "SSH", io: "I/O" };

/** A compact card label: "http_response_time" on an http plugin → "Response time". */
export function shortMetricName(name: string, pluginType?: string): string {
  let n = name;
  if (pluginType && n.toLowerCase().startsWith(pluginType.toLowerCase() + "_")) n = n.slice(pluginType.length + 1);
  n = n.replace(/_(ms|percent|seconds|secs)$/i, "");
  const words = n.split(/[._\s]+/).filter(Boolean).map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase());
  if (words.length === 0) return name;
  if (words[0] === words[0].toLowerCase()) words[0] = words[0].charAt(0).toUpperCase() + words[0].slice(1);
  return words.join(" ");
}

/** 0 → "0 s", 90 → "1 min 30 s", 3600 → "1 h", 86400 → "1 day". */
export function humanSeconds(total: number | null | undefined): string {
  if (total === null || total === undefined || !Number.isFinite(total)) return "—";
  let s = Math.max(0, Math.round(total));
  if (s === 0) return "0 s";
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) parts.push(d === 1 ? "1 day" : `${d} days`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s) parts.push(`${s} s`);
  return parts.slice(0, 2).join(" ");
}
