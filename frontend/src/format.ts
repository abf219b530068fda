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

// ---- quantities typed by people: "10 GB", "500 ms", "90 %" ----------------------------------------

const DECIMAL_BYTES = ["B", "KB", "MB", "GB", "TB", "PB"];
const BINARY_BYTES = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const BYTE_FACTORS: Record<string, number> = { b: 1, byte: 1, bytes: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
DECIMAL_BYTES.forEach((u, i) => (BYTE_FACTORS[u.toLowerCase()] = 1000 ** i));
BINARY_BYTES.forEach((u, i) => (BYTE_FACTORS[u.toLowerCase()] = 1024 ** i));
const SECOND_FACTORS: Record<string, number> = { ms: 0.001, s: 1, sec: 1, secs: 1, second: 1, seconds: 1, m: 60, min: 60, mins: 60, minute: 60, minutes: 60, h: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400 };

type UnitFamily = "bytes" | "bytes/s" | "ms" | "seconds" | "percent" | "celsius" | "other";

function unitFamily(unit: string): UnitFamily {
  const u = unit.trim().toLowerCase();
  if (u === "bytes" || u === "b") return "bytes";
  if (u === "bytes/s" || u === "b/s") return "bytes/s";
  if (u === "ms") return "ms";
  if (u === "s" || u === "seconds" || u === "sec") return "seconds";
  if (u === "%" || u === "percent") return "percent";
  if (u === "celsius" || u === "°c" || u === "c") return "celsius";
  return "other";
}

/** A value typed with or without a unit, in the series' unit: "10 GB" for bytes is 10,000,000,000,
 * "2 s" for ms is 2000, "90 %" is 90; a bare number is taken as the series' unit. Null if unreadable. */
export function parseQuantity(text: string, unit: string): number | null {
  const m = /^\s*(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(.*?)\s*$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2].toLowerCase();
  if (!Number.isFinite(n)) return null;
  if (!suffix) return n;
  const family = unitFamily(unit);
  let factor: number | undefined;
  if (family === "bytes") factor = BYTE_FACTORS[suffix];
  else if (family === "bytes/s") factor = suffix.endsWith("/s") ? BYTE_FACTORS[suffix.slice(0, -2).trim()] : undefined;
  else if (family === "ms") factor = SECOND_FACTORS[suffix] !== undefined ? SECOND_FACTORS[suffix] * 1000 : undefined;
  else if (family === "seconds") factor = SECOND_FACTORS[suffix];
  else if (family === "percent") factor = suffix === "%" ? 1 : undefined;
  else if (family === "celsius") factor = ["°c", "c", "celsius"].includes(suffix) ? 1 : undefined;
  else factor = suffix === unit.trim().toLowerCase() ? 1 : undefined;
  return factor === undefined ? null : Number((n * factor).toPrecision(15));
}

/** The shortest exact "n unit" among `steps` (factor, name), largest factor first. */
function exactIn(value: number, steps: [number, string][]): string {
  for (const [factor, name] of steps) {
    const n = value / factor;
    if (Math.abs(n) >= 1 && Number(n.toFixed(3)) === Number(n.toPrecision(15))) return `${Number(n.toFixed(3))} ${name}`;
  }
  return `${value} ${steps[steps.length - 1][1]}`;
}

/** A threshold shown back the way people type it, exactly (parseQuantity reads it back unchanged):
 * 10,000,000,000 bytes is "10 GB", 10 × 2³⁰ is "10 GiB", 2000 ms is "2 s". */
export function formatQuantity(value: number, unit: string): string {
  const family = unitFamily(unit);
  if (value === 0) return family === "percent" ? "0 %" : family === "other" || !unit ? "0" : `0 ${family === "bytes/s" ? "B/s" : family === "celsius" ? "°C" : family === "bytes" ? "B" : family}`;
  if (family === "bytes" || family === "bytes/s") {
    const steps = (names: string[], base: number) => names.map((nm, i): [number, string] => [base ** i, nm]).reverse();
    const a = exactIn(value, steps(DECIMAL_BYTES, 1000));
    const b = exactIn(value, steps(BINARY_BYTES, 1024));
    const best = b.length < a.length ? b : a;
    return family === "bytes/s" ? `${best}/s` : best;
  }
  if (family === "ms" || family === "seconds") {
    const ms = family === "ms" ? 1 : 1000;
    return exactIn(value * ms, [
      [86_400_000, "d"],
      [3_600_000, "h"],
      [60_000, "min"],
      [1000, "s"],
      [1, "ms"],
    ]);
  }
  if (family === "percent") return `${value} %`;
  if (family === "celsius") return `${value} °C`;
  return unit ? `${value} ${unit}` : String(value);
}

/** What to type, for a threshold field's help text. */
export function quantityHint(unit: string): string {
  const hints: Record<UnitFamily, string> = {
    bytes: "With a unit: 500 MB, 10 GB or 2 TiB (a bare number is bytes).",
    "bytes/s": "With a unit: 10 MB/s or 1 GiB/s (a bare number is bytes per second).",
    ms: "With a unit: 500 ms or 2 s (a bare number is milliseconds).",
    seconds: "With a unit: 30 s, 5 min, 2 h or 1 d (a bare number is seconds).",
    percent: "A percentage, e.g. 90 or 90 %.",
    celsius: "Degrees Celsius, e.g. 70 or 70 °C.",
    other: "A number.",
  };
  return hints[unitFamily(unit)];
}
