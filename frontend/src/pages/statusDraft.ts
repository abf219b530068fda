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
};

export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const newItem = (): DraftItem => ({ plugin_id: null, name: "", show_response_time: false, badge: true });

export function draftOf(page?: StatusPage): Draft {
  if (!page) return { slug: "", title: "", description: "", footer: "", published: false, groups: [{ name: "", items: [newItem()] }], announcements: [] };
  return {
    slug: page.slug,
    title: page.title,
    description: page.description,
    footer: page.footer,
    published: page.published,
    groups: page.groups.map((g) => ({ name: g.name ?? "", items: g.items.map((i) => ({ ...i, show_response_time: !!i.show_response_time, badge: i.badge ?? true })) })),
    announcements: page.announcements.map((a) => ({ title: a.title, body: a.body ?? "", active: a.active ?? true, posted_at: a.posted_at })),
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
  d.announcements.forEach((a, i) => {
    if (!a.title.trim()) errs[`announcements.${i}.title`] = "Give the announcement a title.";
  });
  return errs;
}

export function draftBody(d: Draft): StatusPageCreate {
  return {
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
