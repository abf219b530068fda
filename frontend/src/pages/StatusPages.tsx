// Status pages: everyone sees the list; admins choose what each public page shows (groups of
// plugins under public names, texts, announcements), publish it and copy its badge URLs.
import { useState, type FormEvent } from "react";
import {
  badgeUrls,
  useCreateStatusPage,
  useDeleteStatusPage,
  useRemoveLogo,
  useStatusPages,
  useUpdateStatusPage,
  useUploadLogo,
  type StatusPage,
} from "../api/statusPages";
import { useFreshPlugins } from "../api/plugins";
import type { User } from "../api/session";
import { formErrors } from "../forms/apiErrors";
import { FieldShell, fieldAria } from "../forms/SchemaForm";
import { FormFooter } from "../forms/FormFooter";
import { IdOptions } from "../forms/IdOptions";
import { CopyField, EmptyState, QueryState, Table, useToast } from "../components/ui";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { AdminNote, Pill } from "./alerts/common";
import { draftBody, draftErrors, draftOf, newItem, type Draft, type DraftGroup, type DraftItem, type DraftNote } from "./statusDraft";
import "./status.css";

/** The API's field paths ("body.groups.0.items.1.name") as the form's keys. */
const toField = (path: string) => path.replace(/^body\./, "");

function Check({ checked, onChange, children }: { checked: boolean; onChange: (v: boolean) => void; children: string }) {
  return (
    <label className="radio">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{children}</span>
    </label>
  );
}

function ItemFields({ id, item, errors, onChange, onRemove }: { id: string; item: DraftItem; errors: Record<string, string>; onChange: (i: DraftItem) => void; onRemove: () => void }) {
  const plugins = useFreshPlugins();
  const e = (f: string) => errors[`${id}.${f}`];
  const dom = id.replace(/\./g, "-");
  return (
    <div className="sp-item">
      <FieldShell id={`${dom}-plugin`} label="Plugin" required error={e("plugin_id")} description="Never shown to visitors.">
        <select
          id={`${dom}-plugin`}
          value={item.plugin_id ?? ""}
          onChange={(ev) => {
            const pid = ev.target.value ? Number(ev.target.value) : null;
            const picked = plugins.data?.find((p) => p.id === pid);
            onChange({ ...item, plugin_id: pid, name: item.name || (picked?.name ?? "") });
          }}
          {...fieldAria(`${dom}-plugin`, e("plugin_id"), true)}
        >
          <option value="">Choose…</option>
          <IdOptions items={plugins.data} />
        </select>
      </FieldShell>
      <FieldShell id={`${dom}-name`} label="Public name" required error={e("name")}>
        <input id={`${dom}-name`} value={item.name} autoComplete="off" onChange={(ev) => onChange({ ...item, name: ev.target.value })} {...fieldAria(`${dom}-name`, e("name"))} />
      </FieldShell>
      <div className="sp-row">
        <Check checked={item.show_response_time} onChange={(v) => onChange({ ...item, show_response_time: v })}>
          Show response time
        </Check>
        <Check checked={item.badge} onChange={(v) => onChange({ ...item, badge: v })}>
          Badges
        </Check>
        <button type="button" className="btn btn-sm btn-danger-ghost" onClick={onRemove}>
          Remove monitor
        </button>
      </div>
    </div>
  );
}

function GroupFields({ gi, group, errors, onChange, onRemove }: { gi: number; group: DraftGroup; errors: Record<string, string>; onChange: (g: DraftGroup) => void; onRemove: () => void }) {
  const setItem = (ii: number, it: DraftItem) => onChange({ ...group, items: group.items.map((x, j) => (j === ii ? it : x)) });
  return (
    <fieldset className="sp-group">
      <legend>Section {gi + 1}</legend>
      <FieldShell id={`g${gi}-name`} label="Heading" description="May be left empty.">
        <input id={`g${gi}-name`} value={group.name} autoComplete="off" onChange={(e) => onChange({ ...group, name: e.target.value })} {...fieldAria(`g${gi}-name`, undefined, true)} />
      </FieldShell>
      {group.items.map((it, ii) => (
        <ItemFields
          key={ii}
          id={`groups.${gi}.items.${ii}`}
          item={it}
          errors={errors}
          onChange={(x) => setItem(ii, x)}
          onRemove={() => onChange({ ...group, items: group.items.filter((_, j) => j !== ii) })}
        />
      ))}
      <div className="sp-row">
        <button type="button" className="btn btn-sm" onClick={() => onChange({ ...group, items: [...group.items, newItem()] })}>
          + Add monitor
        </button>
        <button type="button" className="btn btn-sm btn-danger-ghost" onClick={onRemove}>
          Remove section
        </button>
      </div>
    </fieldset>
  );
}

function NoteFields({ i, note, errors, onChange, onRemove }: { i: number; note: DraftNote; errors: Record<string, string>; onChange: (n: DraftNote) => void; onRemove: () => void }) {
  const err = errors[`announcements.${i}.title`];
  return (
    <fieldset className="sp-group">
      <legend>Announcement {i + 1}</legend>
      <FieldShell id={`n${i}-title`} label="Title" required error={err}>
        <input id={`n${i}-title`} value={note.title} autoComplete="off" onChange={(e) => onChange({ ...note, title: e.target.value })} {...fieldAria(`n${i}-title`, err)} />
      </FieldShell>
      <FieldShell id={`n${i}-body`} label="Text">
        <textarea id={`n${i}-body`} rows={3} value={note.body} onChange={(e) => onChange({ ...note, body: e.target.value })} />
      </FieldShell>
      <div className="sp-row">
        <Check checked={note.active} onChange={(v) => onChange({ ...note, active: v })}>
          Ongoing (untick when resolved)
        </Check>
        <button type="button" className="btn btn-sm btn-danger-ghost" onClick={onRemove}>
          Remove announcement
        </button>
      </div>
    </fieldset>
  );
}

/** Logo: uploaded at once (PNG, WebP or SVG up to 256 KB; the server checks and cleans it). */
function LogoField({ page }: { page: StatusPage }) {
  const toast = useToast();
  const [error, setError] = useState<string | null>(null);
  const cb = {
    onSuccess: (p: StatusPage) => {
      setError(null);
      toast(p.logo_url ? "Logo saved." : "Logo removed.");
    },
    onError: (e: Error) => setError(e.message),
  };
  const upload = useUploadLogo(cb);
  const remove = useRemoveLogo(cb);
  return (
    <div className="form-grid">
      <FieldShell id="sp-logo" label="Logo" description="PNG, WebP or SVG, at most 256 KB." error={error ?? undefined}>
        <input
          id="sp-logo"
          type="file"
          accept="image/png,image/webp,image/svg+xml"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) upload.mutate({ id: page.id, file });
          }}
          {...fieldAria("sp-logo", error ?? undefined, true)}
        />
      </FieldShell>
      {page.logo_url ? (
        <div className="field sp-logo-preview">
          <img src={page.logo_url} alt="Current logo" height={40} />
          <button type="button" className="btn btn-sm" onClick={() => remove.mutate(page.id)} disabled={remove.isPending}>
            Remove logo
          </button>
        </div>
      ) : null}
    </div>
  );
}

function StatusPageForm({ page, onDone }: { page?: StatusPage; onDone: () => void }) {
  const toast = useToast();
  const [d, setD] = useState<Draft>(() => draftOf(page));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const callbacks = {
    onSuccess: (p: StatusPage) => {
      toast(p.published ? `Saved. The page is public at /status/${p.slug}.` : "Saved. The page is not published yet.");
      onDone();
    },
    onError: (e: Error) => {
      const { fields, banner } = formErrors(e, toField);
      setErrors(fields);
      setFormError(banner);
    },
  };
  const create = useCreateStatusPage(callbacks);
  const update = useUpdateStatusPage(callbacks);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = draftErrors(d);
    setErrors(errs);
    if (Object.keys(errs).length) {
      setFormError("Some fields need attention: fix the highlighted values and try again.");
      return;
    }
    setFormError(null);
    if (page) update.mutate({ id: page.id, body: draftBody(d, true) });
    else create.mutate(draftBody(d));
  };
  const heading = page ? `Edit “${page.title}”` : "New status page";
  return (
    <form className="card form-card" onSubmit={submit} noValidate aria-label={heading}>
      <h2>{heading}</h2>
      <div className="form-grid">
        <FieldShell id="sp-title" label="Title" required error={errors.title}>
          <input id="sp-title" value={d.title} autoComplete="off" onChange={(e) => set({ title: e.target.value })} {...fieldAria("sp-title", errors.title)} />
        </FieldShell>
        <FieldShell id="sp-slug" label="Address" required description="The page is at /status/<address>: lower-case letters, digits, dashes." error={errors.slug}>
          <input id="sp-slug" className="mono" value={d.slug} autoComplete="off" onChange={(e) => set({ slug: e.target.value.toLowerCase() })} {...fieldAria("sp-slug", errors.slug, true)} />
        </FieldShell>
        <FieldShell id="sp-desc" label="Description" wide>
          <textarea id="sp-desc" rows={2} value={d.description} onChange={(e) => set({ description: e.target.value })} />
        </FieldShell>
        <FieldShell id="sp-footer" label="Footer" wide description="Plain text under the page, e.g. whom to ask.">
          <textarea id="sp-footer" rows={2} value={d.footer} onChange={(e) => set({ footer: e.target.value })} {...fieldAria("sp-footer", undefined, true)} />
        </FieldShell>
        <div className="field wide">
          <Check checked={d.published} onChange={(v) => set({ published: v })}>
            Published: anyone with the address can see it, without signing in
          </Check>
        </div>
      </div>
      <h3>Access and embedding</h3>
      <div className="form-grid">
        <FieldShell
          id="sp-password"
          label={page?.has_password ? "New password" : "Password"}
          description={page?.has_password ? "The page asks visitors for a password. Leave empty to keep it." : "Optional: visitors must enter it to see the page (8 to 128 characters)."}
          error={errors.password}
        >
          <input id="sp-password" type="password" autoComplete="new-password" value={d.password} disabled={d.removePassword} onChange={(e) => set({ password: e.target.value })} {...fieldAria("sp-password", errors.password, true)} />
        </FieldShell>
        {page?.has_password ? (
          <div className="field">
            <Check checked={d.removePassword} onChange={(v) => set({ removePassword: v, password: "" })}>
              Remove the password: anyone with the address can see the page
            </Check>
          </div>
        ) : null}
        <FieldShell id="sp-domain" label="Custom domain" description="Optional: the page also answers at / on this host name (point its DNS at Unity), e.g. status.example.org." error={errors.custom_domain}>
          <input id="sp-domain" className="mono" value={d.custom_domain} autoComplete="off" placeholder="status.example.org" onChange={(e) => set({ custom_domain: e.target.value })} {...fieldAria("sp-domain", errors.custom_domain, true)} />
        </FieldShell>
        <FieldShell id="sp-embed" label="Sites that may embed it" wide description="Optional: origins allowed to show the page in a frame, one per line, e.g. https://home.example.org. Empty: no site may." error={errors.embed_origins}>
          <textarea id="sp-embed" className="mono" rows={2} value={d.embed_origins} onChange={(e) => set({ embed_origins: e.target.value })} {...fieldAria("sp-embed", errors.embed_origins, true)} />
        </FieldShell>
      </div>
      {page ? <LogoField page={page} /> : <p className="muted small">Save the page first to add a logo.</p>}
      <h3>Monitors</h3>
      <p className="muted small">Visitors see each monitor's public name, state, uptime and 90-day bar; never the plugin's settings, host or errors.</p>
      <div className="sp-list">
        {d.groups.map((g, gi) => (
          <GroupFields
            key={gi}
            gi={gi}
            group={g}
            errors={errors}
            onChange={(x) => set({ groups: d.groups.map((y, j) => (j === gi ? x : y)) })}
            onRemove={() => set({ groups: d.groups.filter((_, j) => j !== gi) })}
          />
        ))}
        <div>
          <button type="button" className="btn btn-sm" onClick={() => set({ groups: [...d.groups, { name: "", items: [newItem()] }] })}>
            + Add section
          </button>
        </div>
      </div>
      <h3>Announcements</h3>
      <div className="sp-list">
        {d.announcements.map((n, i) => (
          <NoteFields
            key={i}
            i={i}
            note={n}
            errors={errors}
            onChange={(x) => set({ announcements: d.announcements.map((y, j) => (j === i ? x : y)) })}
            onRemove={() => set({ announcements: d.announcements.filter((_, j) => j !== i) })}
          />
        ))}
        <div>
          <button type="button" className="btn btn-sm" onClick={() => set({ announcements: [{ title: "", body: "", active: true }, ...d.announcements] })}>
            + Add announcement
          </button>
        </div>
      </div>
      <FormFooter formError={formError} onCancel={onDone} busy={create.isPending || update.isPending} submitLabel={page ? "Save page" : "Create page"} />
    </form>
  );
}

function Badges({ page }: { page: StatusPage }) {
  const items = page.groups.flatMap((g) => g.items).filter((i) => i.badge);
  if (!page.published || items.length === 0) return null;
  return (
    <details className="card">
      <summary>Badges of “{page.title}”</summary>
      <div className="sp-list">
        {items.map((i) =>
          badgeUrls(window.location.origin, page.slug, i).map((b) => <CopyField key={`${i.key}-${b.label}`} label={`${i.name}: ${b.label}`} text={`![${i.name}](${b.url})`} />),
        )}
      </div>
    </details>
  );
}

export function StatusPagesPage({ user }: { user: User }) {
  const pages = useStatusPages();
  const toast = useToast();
  const [editing, setEditing] = useState<StatusPage | "new" | null>(null);
  const [doomed, setDoomed] = useState<StatusPage | null>(null);
  const isAdmin = user.role === "admin";
  const del = useDeleteStatusPage({
    onSuccess: () => {
      setDoomed(null);
      toast("Status page deleted.");
    },
  });
  return (
    <div className="page stack">
      <div className="page-head">
        <div>
          <h1>Status pages</h1>
          <p className="muted">Public pages with the state, uptime and 90-day bar of the monitors you choose, readable without signing in.</p>
        </div>
        {isAdmin && !editing ? (
          <div className="actions">
            <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
              + New status page
            </button>
          </div>
        ) : null}
      </div>
      {!isAdmin ? <AdminNote what="status pages" /> : null}
      {editing ? <StatusPageForm key={editing === "new" ? "new" : editing.id} page={editing === "new" ? undefined : editing} onDone={() => setEditing(null)} /> : null}
      <QueryState query={pages} loading="Loading status pages…" failed="Could not load status pages">
        {(list) =>
          list.length === 0 ? (
            <EmptyState title="No status pages">Make one to show family, friends or users what works, without giving them a login.</EmptyState>
          ) : (
            <>
              <section className="card">
                <Table caption="Status pages" columns={["Title", "Address", "Monitors", "Published"]} actions={isAdmin}>
                  {list.map((p) => (
                    <tr key={p.id} data-status-page={p.slug}>
                      <td>{p.title}</td>
                      <td className="small">
                        <a href={`/status/${p.slug}`}>/status/{p.slug}</a>
                      </td>
                      <td>{p.groups.reduce((n, g) => n + g.items.length, 0)}</td>
                      <td>{p.published ? <Pill kind="active">Published</Pill> : <span className="muted">No</span>}</td>
                      {isAdmin ? (
                        <td>
                          <div className="row-actions">
                            <button type="button" className="btn btn-sm" onClick={() => setEditing(p)} aria-label={`Edit ${p.title}`}>
                              Edit
                            </button>
                            <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDoomed(p)} aria-label={`Delete ${p.title}`}>
                              Delete
                            </button>
                          </div>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </Table>
              </section>
              {list.map((p) => (
                <Badges key={p.id} page={p} />
              ))}
            </>
          )
        }
      </QueryState>
      {doomed ? (
        <ConfirmDelete
          id={doomed.id}
          deletion={del}
          title={`Delete “${doomed.title}”?`}
          message="Its public address and badges stop answering at once."
          confirmLabel="Delete page"
          onCancel={() => setDoomed(null)}
        />
      ) : null}
    </div>
  );
}
