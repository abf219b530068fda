// Silences: what is in force, upcoming and past; create one for a plugin,
// a rule or everything with quick durations; end one now or delete it.
import { useState, type FormEvent } from "react";
import { useCreateSilence, useDeleteSilence, useEndSilence, useRules, useSilences, type Silence } from "../../api/alerts";
import { useFreshPlugins } from "../../api/plugins";
import type { User } from "../../api/session";
import { errorMessage } from "../../api/client";
import { formErrors, topLevel } from "../../forms/apiErrors";
import { EmptyState, QueryState, Table, useToast } from "../../components/ui";
import { FormFooter } from "../../forms/FormFooter";
import { FieldShell, fieldAria } from "../../forms/SchemaForm";
import { formatDateTime, humanSeconds } from "../../format";
import { AdminNote, Pill, pluginName } from "./common";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { IdOptions } from "../../forms/IdOptions";

export const PRESETS = [
  { label: "1 h", seconds: 3600 },
  { label: "4 h", seconds: 4 * 3600 },
  { label: "1 day", seconds: 86400 },
  { label: "1 week", seconds: 7 * 86400 },
];

export function silenceState(s: Pick<Silence, "starts_at" | "ends_at">, now = Date.now()): "active" | "upcoming" | "expired" {
  const start = Date.parse(s.starts_at);
  const end = Date.parse(s.ends_at);
  if (now >= end) return "expired";
  if (now < start) return "upcoming";
  return "active";
}

function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function SilenceForm({ onDone }: { onDone: () => void }) {
  const plugins = useFreshPlugins();
  const rules = useRules();
  const toast = useToast();
  const [scope, setScope] = useState<"plugin" | "rule" | "global">("plugin");
  const [target, setTarget] = useState("");
  const [start, setStart] = useState(""); // "" = now
  const [end, setEnd] = useState(() => toLocalInput(new Date(Date.now() + 3600_000)));
  const [comment, setComment] = useState("");
  const [openedAt] = useState(() => Date.now());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  const preset = (seconds: number) => {
    const from = start ? new Date(start) : new Date();
    setEnd(toLocalInput(new Date(from.getTime() + seconds * 1000)));
    setErrors(({ ends_at: _d, ...rest }) => rest);
  };

  const create = useCreateSilence({
    onSuccess: () => {
      toast("Silence created. Alerts it covers are still recorded, but not sent.");
      onDone();
    },
    onError: (e) => {
      const { fields, banner } = formErrors(e, topLevel("plugin_id", "rule_id", "starts_at", "ends_at", "comment"));
      setErrors(fields);
      setFormError(banner);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    // "Now" at the inputs' one-minute resolution, so a "4 h" preset makes a 4 h window.
    const startsAt = start ? new Date(start) : new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const endsAt = new Date(end);
    if (scope !== "global" && !target) errs[scope === "plugin" ? "plugin_id" : "rule_id"] = `Choose the ${scope} to silence.`;
    if (start && Number.isNaN(startsAt.getTime())) errs.starts_at = "Enter a start date and time, or leave it empty for now.";
    if (!end || Number.isNaN(endsAt.getTime())) errs.ends_at = "Enter when the silence ends.";
    else if (endsAt <= startsAt) errs.ends_at = "The end must be after the start.";
    else if (endsAt.getTime() <= Date.now()) errs.ends_at = "The end is in the past.";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setFormError(null);
    create.mutate({
      plugin_id: scope === "plugin" ? Number(target) : null,
      rule_id: scope === "rule" ? Number(target) : null,
      starts_at: startsAt.toISOString(),
      ends_at: endsAt.toISOString(),
      comment: comment.trim(),
    });
  };

  const span = (() => {
    // An empty start means "now": the form's opening, at the inputs' one-minute resolution,
    // so "1 h" reads as 1 h, not 59 min.
    const a = start ? Date.parse(start) : Math.floor(openedAt / 60_000) * 60_000;
    const b = Date.parse(end);
    return Number.isFinite(a) && Number.isFinite(b) && b > a ? humanSeconds((b - a) / 1000) : null;
  })();

  return (
    <form className="card form-card" onSubmit={submit} noValidate aria-label="New silence">
      <h2>New silence</h2>
      <fieldset className="radio-row">
        <legend>Silence</legend>
        {(
          [
            ["plugin", "One plugin"],
            ["rule", "One rule"],
            ["global", "Everything"],
          ] as const
        ).map(([k, label]) => (
          <label className="radio" key={k}>
            <input
              type="radio"
              name="scope"
              value={k}
              checked={scope === k}
              onChange={() => {
                setScope(k);
                setTarget("");
                setErrors({});
              }}
            />
            <span>{label}</span>
          </label>
        ))}
      </fieldset>
      <div className="form-grid">
        {scope === "plugin" ? (
          <FieldShell id="sil-plugin" label="Plugin" required error={errors.plugin_id}>
            <select id="sil-plugin" value={target} onChange={(e) => setTarget(e.target.value)} {...fieldAria("sil-plugin", errors.plugin_id)}>
              <option value="">Choose a plugin…</option>
              <IdOptions items={plugins.data} />
            </select>
          </FieldShell>
        ) : scope === "rule" ? (
          <FieldShell id="sil-rule" label="Rule" required error={errors.rule_id}>
            <select id="sil-rule" value={target} onChange={(e) => setTarget(e.target.value)} {...fieldAria("sil-rule", errors.rule_id)}>
              <option value="">Choose a rule…</option>
              <IdOptions items={rules.data} />
            </select>
          </FieldShell>
        ) : (
          <p className="muted small field">Every alert is recorded but no notice goes out while it lasts.</p>
        )}
        <FieldShell id="sil-start" label="Starts" description="Leave empty to start now." error={errors.starts_at}>
          <input id="sil-start" type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} {...fieldAria("sil-start", errors.starts_at, true)} />
        </FieldShell>
        <FieldShell id="sil-end" label="Ends" required description={span ? `Lasts ${span}.` : undefined} error={errors.ends_at}>
          <input id="sil-end" type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} {...fieldAria("sil-end", errors.ends_at, Boolean(span))} />
        </FieldShell>
        <div className="field">
          <span className="field-label" id="sil-presets">
            Quick duration
          </span>
          <div className="segmented" role="group" aria-labelledby="sil-presets">
            {PRESETS.map((p) => (
              <button key={p.label} type="button" onClick={() => preset(p.seconds)}>
                {p.label}
              </button>
            ))}
          </div>
        </div>
        <FieldShell id="sil-comment" label="Comment" wide description="Why: shown to everyone, e.g. “NAS firmware upgrade”." error={errors.comment}>
          <input id="sil-comment" value={comment} autoComplete="off" onChange={(e) => setComment(e.target.value)} {...fieldAria("sil-comment", errors.comment, true)} />
        </FieldShell>
      </div>
      <FormFooter formError={formError} onCancel={onDone} busy={create.isPending} busyLabel="Creating…" submitLabel="Create silence" />
    </form>
  );
}

export function SilencesPage({ user }: { user: User }) {
  const silences = useSilences();
  const plugins = useFreshPlugins();
  const rules = useRules();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const [doomed, setDoomed] = useState<Silence | null>(null);
  const isAdmin = user.role === "admin";
  const endNow = useEndSilence({
    onSuccess: () => {
      toast("Silence ended. Alerts still firing are announced now.");
    },
    onError: (e) => toast(errorMessage(e), "error"),
  });
  const del = useDeleteSilence({
    onSuccess: () => {
      setDoomed(null);
      toast("Silence deleted.");
    },
  });
  const scope = (s: Silence) => {
    const parts: string[] = [];
    if (s.plugin_id !== null) parts.push(`plugin ${pluginName(plugins.data, s.plugin_id)}`);
    if (s.rule_id !== null) parts.push(`rule ${rules.data?.find((r) => r.id === s.rule_id)?.name ?? `#${s.rule_id}`}`);
    return parts.length ? parts.join(" · ") : "Everything";
  };
  const order = { active: 0, upcoming: 1, expired: 2 } as const;
  const list = [...(silences.data ?? [])].sort((a, b) => order[silenceState(a)] - order[silenceState(b)] || Date.parse(b.starts_at) - Date.parse(a.starts_at));

  return (
    <div className="stack">
      <div className="section-head tight">
        <p className="muted">During a silence alerts are still evaluated and recorded, but no notices are sent.</p>
        {isAdmin && !adding ? (
          <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
            + New silence
          </button>
        ) : null}
      </div>
      {!isAdmin ? <AdminNote what="silences" /> : null}
      {adding ? <SilenceForm onDone={() => setAdding(false)} /> : null}
      <QueryState query={silences} loading="Loading silences…" failed="Could not load silences">
        {() =>
          list.length === 0 ? (
            <EmptyState title="No silences">Create one before maintenance, such as a reboot or an upgrade, so planned downtime does not page you.</EmptyState>
          ) : (
            <section className="card">
              <Table caption="Silences" columns={["State", "Covers", "Window", "Comment"]} actions={isAdmin}>
                {list.map((s) => {
                  const st = silenceState(s);
                  return (
                    <tr key={s.id} data-silence={s.id} className={st === "expired" ? "row-muted" : undefined}>
                      <td>
                        <Pill kind={st} />
                      </td>
                      <td>{scope(s)}</td>
                      <td className="small">
                        {formatDateTime(s.starts_at)} → {formatDateTime(s.ends_at)}
                        <div className="muted">{humanSeconds((Date.parse(s.ends_at) - Date.parse(s.starts_at)) / 1000)}</div>
                      </td>
                      <td className="small">
                        {s.comment || <span className="muted">—</span>}
                        <div className="muted">by {s.created_by}</div>
                      </td>
                      {isAdmin ? (
                        <td>
                          <div className="row-actions">
                            {st === "active" ? (
                              <button type="button" className="btn btn-sm" onClick={() => endNow.mutate(s.id)} disabled={endNow.isPending}>
                                End now
                              </button>
                            ) : null}
                            <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDoomed(s)}>
                              Delete
                            </button>
                          </div>
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </Table>
            </section>
          )}
      </QueryState>
      {doomed ? (
        <ConfirmDelete
          id={doomed.id}
          deletion={del}
          title="Delete this silence?"
          message={`It covers ${scope(doomed).toLowerCase()}. Incidents it silenced keep their “silenced” mark.`}
          confirmLabel="Delete silence"
          onCancel={() => setDoomed(null)}
        />
      ) : null}
    </div>
  );
}
