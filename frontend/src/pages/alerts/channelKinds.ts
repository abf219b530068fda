// Guided channel forms: the ten services homelab users pick most, each a few labelled fields that
// build the Apprise URL the backend stores. "Other" keeps the raw URL for everything else.
// channelKinds.examples.json holds one example per service; the backend tests feed those URLs to
// Apprise itself, so a builder that drifts from Apprise's syntax fails there.

export interface KindField {
  key: string;
  label: string;
  placeholder?: string;
  help?: string;
  secret?: boolean;
  optional?: boolean;
}

export interface ChannelKind {
  id: string;
  label: string;
  fields: KindField[];
  /** The Apprise URL; throws a FieldProblem naming the field and what to fix. */
  build: (v: Record<string, string>) => string;
}

const enc = encodeURIComponent;

/** A builder's complaint about one field. */
export class FieldProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** "https://host:8123/x/" → { secure, hostPort: "host:8123", path: "/x" }; a bare host is HTTPS. */
export function splitServer(raw: string, field = "server"): { secure: boolean; hostPort: string; path: string } {
  const text = raw.trim().replace(/\/+$/, "");
  const m = /^(?:(https?):\/\/)?([^/\s?#@]+)(\/[^\s?#]*)?$/i.exec(text);
  if (!m) throw new FieldProblem(field, "Enter a host name or an http(s):// address, e.g. server.example.lan or http://192.168.1.5:8080.");
  return { secure: (m[1] ?? "https").toLowerCase() === "https", hostPort: m[2], path: m[3] ?? "" };
}

function webhookParts(raw: string, pattern: RegExp, example: string): string[] {
  const m = pattern.exec(raw.trim());
  if (!m) throw new FieldProblem("webhook", `Paste the whole webhook URL, e.g. ${example}.`);
  return m.slice(1);
}

export const CHANNEL_KINDS: ChannelKind[] = [
  {
    id: "ntfy",
    label: "ntfy",
    fields: [
      { key: "server", label: "Server", placeholder: "ntfy.sh", optional: true, help: "Empty for ntfy.sh, or your own server's address." },
      { key: "topic", label: "Topic", placeholder: "homelab-alerts", help: "Subscribe to this topic in the ntfy app." },
      { key: "token", label: "Access token", secret: true, optional: true, help: "Only for a protected topic (tk_…)." },
    ],
    build: (v) => {
      const { secure, hostPort, path } = splitServer(v.server || "ntfy.sh");
      return `ntfy${secure ? "s" : ""}://${v.token ? `${enc(v.token)}@` : ""}${hostPort}${path}/${enc(v.topic)}`;
    },
  },
  {
    id: "gotify",
    label: "Gotify",
    fields: [
      { key: "server", label: "Server", placeholder: "https://gotify.example.lan" },
      { key: "token", label: "Application token", secret: true, help: "Apps → Create application in Gotify." },
    ],
    build: (v) => {
      const { secure, hostPort, path } = splitServer(v.server);
      return `gotify${secure ? "s" : ""}://${hostPort}${path}/${enc(v.token)}`;
    },
  },
  {
    id: "telegram",
    label: "Telegram",
    fields: [
      { key: "bot_token", label: "Bot token", secret: true, placeholder: "123456789:AA…", help: "From @BotFather." },
      { key: "chat_id", label: "Chat ID", placeholder: "-1001234567890", help: "Your user or group chat ID." },
    ],
    build: (v) => {
      if (!/^\d+:[\w-]+$/.test(v.bot_token.trim())) throw new FieldProblem("bot_token", "A bot token looks like 123456789:AAE…, as @BotFather gives it.");
      return `tgram://${v.bot_token.trim()}/${enc(v.chat_id.trim())}`;
    },
  },
  {
    id: "discord",
    label: "Discord",
    fields: [{ key: "webhook", label: "Webhook URL", secret: true, help: "Channel settings → Integrations → Webhooks → Copy URL." }],
    build: (v) => {
      const [id, token] = webhookParts(
        v.webhook,
        /^https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/(\d+)\/([\w-]+)\/?$/,
        "https://discord.com/api/webhooks/123/abc",
      );
      return `discord://${id}/${token}`;
    },
  },
  {
    id: "slack",
    label: "Slack",
    fields: [
      { key: "webhook", label: "Webhook URL", secret: true, help: "An incoming webhook of a Slack app." },
      { key: "channel", label: "Channel", placeholder: "#alerts", optional: true, help: "Only to post somewhere other than the webhook's channel." },
    ],
    build: (v) => {
      const [a, b, c] = webhookParts(v.webhook, /^https:\/\/hooks\.slack\.com\/services\/(\w+)\/(\w+)\/(\w+)\/?$/, "https://hooks.slack.com/services/T0123/B0456/a1b2c3d4");
      const channel = v.channel.trim().replace(/^#/, "");
      return `slack://${a}/${b}/${c}${channel ? `/${enc(`#${channel}`)}` : ""}`;
    },
  },
  {
    id: "pushover",
    label: "Pushover",
    fields: [
      { key: "user_key", label: "User key", secret: true, help: "On your Pushover dashboard." },
      { key: "token", label: "Application token", secret: true, help: "Create an application in Pushover." },
    ],
    build: (v) => `pover://${enc(v.user_key.trim())}@${enc(v.token.trim())}`,
  },
  {
    id: "matrix",
    label: "Matrix",
    fields: [
      { key: "server", label: "Homeserver", placeholder: "matrix.example.org" },
      { key: "user", label: "User", placeholder: "unity-bot" },
      { key: "password", label: "Password", secret: true },
      { key: "room", label: "Room", placeholder: "#alerts:example.org", help: "A room alias (#…) or ID (!…) the user has joined." },
    ],
    build: (v) => {
      const { secure, hostPort } = splitServer(v.server);
      return `matrix${secure ? "s" : ""}://${enc(v.user.trim())}:${enc(v.password)}@${hostPort}/${enc(v.room.trim())}`;
    },
  },
  {
    id: "homeassistant",
    label: "Home Assistant",
    fields: [
      { key: "server", label: "Home Assistant address", placeholder: "http://homeassistant.local:8123" },
      { key: "token", label: "Long-lived access token", secret: true, help: "Your profile → Security → Long-lived access tokens." },
    ],
    build: (v) => {
      const { secure, hostPort, path } = splitServer(v.server);
      return `hassio${secure ? "s" : ""}://${hostPort}${path}/${enc(v.token.trim())}`;
    },
  },
  {
    id: "email",
    label: "Email (SMTP)",
    fields: [
      { key: "smtp", label: "SMTP server", placeholder: "smtp.example.com" },
      { key: "port", label: "Port", placeholder: "587", help: "587 (STARTTLS) or 465 (TLS)." },
      { key: "user", label: "Username", placeholder: "alerts@example.com" },
      { key: "password", label: "Password", secret: true },
      { key: "from", label: "From", placeholder: "alerts@example.com" },
      { key: "to", label: "To", placeholder: "me@example.com" },
    ],
    build: (v) => {
      const port = (v.port || "587").trim();
      if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new FieldProblem("port", "The port is a number such as 587 or 465.");
      const mode = port === "465" ? "ssl" : "starttls";
      const { hostPort } = splitServer(v.smtp, "smtp");
      const query = `from=${enc(v.from.trim())}&mode=${mode}`;
      return `mailtos://${enc(v.user.trim())}:${enc(v.password)}@${hostPort}:${port}/${enc(v.to.trim())}?${query}`;
    },
  },
  {
    id: "webhook",
    label: "Webhook (JSON)",
    fields: [{ key: "url", label: "URL", placeholder: "https://n8n.example.lan/webhook/unity", help: "Unity POSTs a JSON body with title, message and type." }],
    build: (v) => {
      const { secure, hostPort, path } = splitServer(v.url, "url");
      return `json${secure ? "s" : ""}://${hostPort}${path}`;
    },
  },
];

/** The URL for the chosen kind, or a sentence per missing field / the builder's complaint. */
export function buildChannelUrl(kind: ChannelKind, values: Record<string, string>): { url?: string; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  for (const f of kind.fields) {
    if (!f.optional && !(values[f.key] ?? "").trim()) errors[f.key] = `Enter the ${f.label.toLowerCase()}.`;
  }
  if (Object.keys(errors).length) return { errors };
  const filled = Object.fromEntries(kind.fields.map((f) => [f.key, values[f.key] ?? ""]));
  try {
    return { url: kind.build(filled), errors };
  } catch (e) {
    if (e instanceof FieldProblem) return { errors: { [e.field]: e.message } };
    throw e;
  }
}
