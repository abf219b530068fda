// The status page editor's draft: what the form holds, checked before it is sent.
import type { StatusPage, StatusPageCreate } from "../api/statusPages";

export type DraftItem = { plugin_id: number | null; name: string; key?: string; show_response_time: boolean; badge: boolean };
export type DraftGroup = { name: string; items: DraftItem[] };
export type DraftNote = { title: string; body: string; active: boolean; posted_at?: string | null };
export type Draft = {
  slug: string;
  title: string;
  description: string;
  footer: string;
  published: boolean;
  groups: DraftGroup[];
  announcements: DraftNote[];
  /** A new visitors' password; empty: keep what the page has. */
  password: string;
  removePassword: boolean;
  custom_domain: string;
  /** Origins that may frame the page, one per line. */
  embed_origins: string;
};

export const HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
export const ORIGIN = /^(?:'self'|https?:\/\/(?:\*\.)?[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::[0-9]{1,5})?)$/;
const ACCESS = { password: "", removePassword: false, custom_domain: "", embed_origins: "" };
const origins = (text: string) => text.split(/[\s,]+/).filter(Boolean);
export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const newItem = (): DraftItem => ({ plugin_id: null, name: "", show_response_time: false, badge: true });

export function draftOf(page?: StatusPage): Draft {
  if (!page) return { slug: "", title: "", description: "", footer: "", published: false, groups: [{ name: "", items: [newItem()] }], announcements: [], ...ACCESS };
  return {
    slug: page.slug,
    title: page.title,
    description: page.description,
    footer: page.footer,
    published: page.published,
    groups: page.groups.map((g) => ({ name: g.name ?? "", items: g.items.map((i) => ({ ...i, show_response_time: !!i.show_response_time, badge: i.badge ?? true })) })),
    announcements: page.announcements.map((a) => ({ title: a.title, body: a.body ?? "", active: a.active ?? true, posted_at: a.posted_at })),
    ...ACCESS,
    custom_domain: page.custom_domain ?? "",
    embed_origins: page.embed_origins.join("\n"),
  };
}

/** Field errors keyed like the form's inputs ("slug", "groups.0.items.1.plugin_id", …). */
export function draftErrors(d: Draft): Record<string, string> {
  const errs: Record<string, string> = {};
  if (!SLUG.test(d.slug)) errs.slug = "Use lower-case letters, digits and dashes, e.g. “home-lab”.";
  if (!d.title.trim()) errs.title = "Give the page a title, e.g. “Home lab status”.";
  d.groups.forEach((g, gi) =>
    g.items.forEach((it, ii) => {
      if (it.plugin_id === null) errs[`groups.${gi}.items.${ii}.plugin_id`] = "Choose the plugin this monitor shows.";
      if (!it.name.trim()) errs[`groups.${gi}.items.${ii}.name`] = "Give it the name visitors see, e.g. “NAS”.";
    }),
  );
  if (d.password && (d.password.length < 8 || d.password.length > 128)) errs.password = "Use 8 to 128 characters, or leave it empty to keep the current one.";
  const domain = d.custom_domain.trim().toLowerCase();
  if (domain && !HOST.test(domain)) errs.custom_domain = "Give a host name only, e.g. “status.example.org” (no https://, no port).";
  const bad = origins(d.embed_origins).find((o) => !ORIGIN.test(o));
  if (bad) errs.embed_origins = `“${bad}” is not an origin: use e.g. https://home.example.org (no path).`;
  d.announcements.forEach((a, i) => {
    if (!a.title.trim()) errs[`announcements.${i}.title`] = "Give the announcement a title.";
  });
  return errs;
}

/** The page to send; `editing`: a change, where an empty string removes a password or domain. */
export function draftBody(d: Draft, editing = false): StatusPageCreate {
  const domain = d.custom_domain.trim().toLowerCase();
  const password = d.removePassword ? "" : d.password;
  return {
    ...(password || (editing && d.removePassword) ? { password } : {}),
    custom_domain: domain || (editing ? "" : null),
    embed_origins: origins(d.embed_origins),
    slug: d.slug,
    title: d.title.trim(),
    description: d.description.trim(),
    footer: d.footer.trim(),
    published: d.published,
    groups: d.groups.map((g) => ({
      name: g.name.trim(),
      items: g.items.map((i) => ({ plugin_id: i.plugin_id ?? 0, name: i.name.trim(), key: i.key || null, show_response_time: i.show_response_time, badge: i.badge })),
    })),
    announcements: d.announcements.map((a) => ({ title: a.title.trim(), body: a.body.trim(), active: a.active, posted_at: a.posted_at ?? null })),
  };
}
