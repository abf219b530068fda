// Maintenance windows: planned work that mutes notifications and is left out of uptime. Everyone
// sees the list; admins plan one-off, weekly or cron windows, end one now or delete it.
import { useState, type FormEvent } from "react";
import { useCreateMaintenance, useDeleteMaintenance, useEndMaintenance, useMaintenance, useUpdateMaintenance, type Maintenance, type MaintenanceCreate, type MaintenanceKind } from "../api/maintenance";
import { useFreshPlugins, type Plugin } from "../api/plugins";
import type { User } from "../api/session";
import { errorMessage } from "../api/client";
import { formErrors, topLevel } from "../forms/apiErrors";
import { FieldNotes, FieldShell, fieldAria } from "../forms/SchemaForm";
import { FormFooter } from "../forms/FormFooter";
import { IdOptions } from "../forms/IdOptions";
import { EmptyState, QueryState, Table, useToast } from "../components/ui";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { managedBy, useManaged } from "../api/config";
import { formatDateTime, humanSeconds } from "../format";
import { AdminNote, Pill, pluginName } from "./alerts/common";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** "Every Mon, Sat at 03:00 for 2 h (Europe/Berlin)" and the like. */
export function scheduleText(w: Pick<Maintenance, "kind" | "starts_at" | "ends_at" | "weekdays" | "start_time" | "duration_seconds" | "cron">): string {
  const lasting = w.duration_seconds ? ` for ${humanSeconds(w.duration_seconds)}` : "";
  if (w.kind === "once") return `Once, ${formatDateTime(w.starts_at)} → ${formatDateTime(w.ends_at)}`;
  if (w.kind === "weekly") {
    const days = w.weekdays.length === 7 ? "day" : [...w.weekdays].sort().map((d) => WEEKDAYS[d] ?? `day ${d}`).join(", ");
    return `Every ${days} at ${w.start_time ?? "?"}${lasting}`;
  }
  return `Cron “${w.cron ?? ""}”${lasting}`;
}

function coverage(w: Maintenance, plugins: Plugin[] | undefined): string {
  if (w.all_plugins) return "All plugins";
  if (w.plugin_ids.length === 0) return "No plugins";
  return w.plugin_ids.map((id) => pluginName(plugins, id)).join(", ");
}

function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

const KINDS: [MaintenanceKind, string][] = [
  ["once", "One-off"],
  ["weekly", "Weekly"],
  ["cron", "Cron"],
];
/** An ISO time as a datetime-local input's value, in the browser's time. */
export function localInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const FIELDS = ["name", "comment", "starts_at", "ends_at", "weekdays", "start_time", "duration_seconds", "cron", "timezone", "plugin_ids", "all_plugins"];

/** Plans a new window, or changes `editing` (whose kind stays what it is). */
function MaintenanceForm({ editing, onDone }: { editing?: Maintenance; onDone: () => void }) {
  const plugins = useFreshPlugins();
  const toast = useToast();
  const w = editing;
  const [kind, setKind] = useState<MaintenanceKind>(w?.kind ?? "once");
  const [name, setName] = useState(w?.name ?? "");
  const [comment, setComment] = useState(w?.comment ?? "");
  const [start, setStart] = useState(w?.kind === "once" ? localInput(w.starts_at) : "");
  const [end, setEnd] = useState(w?.kind === "once" ? localInput(w.ends_at) : "");
  const [weekdays, setWeekdays] = useState<number[]>(w?.weekdays.length ? w.weekdays : [6]);
  const [startTime, setStartTime] = useState(w?.start_time ?? "03:00");
  const [minutes, setMinutes] = useState(w?.duration_seconds ? String(w.duration_seconds / 60) : "60");
  const [cron, setCron] = useState(w?.cron ?? "0 3 * * 0");
  const [timezone, setTimezone] = useState(() => w?.timezone ?? localTimeZone());
  const [all, setAll] = useState(w?.all_plugins ?? false);
  const [chosen, setChosen] = useState<number[]>(w?.plugin_ids ?? []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  const callbacks = (message: string) => ({
    onSuccess: () => {
      toast(message);
      onDone();
    },
    onError: (e: Error) => {
      const { fields, banner } = formErrors(e, topLevel(...FIELDS));
      setErrors(fields);
      setFormError(banner);
    },
  });
  const create = useCreateMaintenance(callbacks("Maintenance window planned. Notifications are muted and uptime leaves it out."));
  const update = useUpdateMaintenance(callbacks("Maintenance window saved."));
  // A window's kind is fixed once made: only a new one sends it.
  const save = (body: Omit<MaintenanceCreate, "kind">) => (w ? update.mutate({ id: w.id, body }) : create.mutate({ ...body, kind }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!name.trim()) errs.name = "Give the window a name, e.g. “NAS firmware”.";
    if (!all && chosen.length === 0) errs.plugin_ids = "Choose the plugins it covers, or tick “All plugins”.";
    const startsAt = new Date(start);
    const endsAt = new Date(end);
    const duration = Math.round(Number(minutes) * 60);
    if (kind === "once") {
      if (!start || Number.isNaN(startsAt.getTime())) errs.starts_at = "Enter when the work begins.";
      if (!end || Number.isNaN(endsAt.getTime())) errs.ends_at = "Enter when the work ends.";
      else if (endsAt <= startsAt) errs.ends_at = "The end must be after the start.";
    } else {
      if (!Number.isFinite(duration) || duration < 60 || duration > 7 * 86400) errs.duration_seconds = "Enter a duration from 1 minute to 7 days (10080 minutes).";
      if (kind === "weekly" && weekdays.length === 0) errs.weekdays = "Choose at least one day.";
      if (kind === "weekly" && !/^([01]\d|2[0-3]):[0-5]\d$/.test(startTime)) errs.start_time = "Enter a time as HH:MM.";
      if (kind === "cron" && cron.trim().split(/\s+/).length !== 5) errs.cron = "Enter five crontab fields, e.g. “0 3 * * 0” (Sundays at 03:00).";
    }
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setFormError(null);
    const common = { name: name.trim(), comment: comment.trim(), timezone: timezone.trim() || "UTC", all_plugins: all, plugin_ids: all ? [] : chosen };
    if (kind === "once") save({ ...common, starts_at: startsAt.toISOString(), ends_at: endsAt.toISOString() });
    else if (kind === "weekly") save({ ...common, weekdays, start_time: startTime, duration_seconds: duration });
    else save({ ...common, cron: cron.trim(), duration_seconds: duration });
  };

  const heading = w ? `Edit “${w.name}”` : "New maintenance window";
  return (
    <form className="card form-card" onSubmit={submit} noValidate aria-label={heading}>
      <h2>{heading}</h2>
      <fieldset className="radio-row" disabled={!!w}>
        <legend>Schedule{w ? " (fixed once planned)" : ""}</legend>
        {KINDS.map(([k, label]) => (
          <label className="radio" key={k}>
            <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => (setKind(k), setErrors({}))} />
            <span>{label}</span>
          </label>
        ))}
      </fieldset>
      <div className="form-grid">
        <FieldShell id="mw-name" label="Name" required error={errors.name}>
          <input id="mw-name" value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} {...fieldAria("mw-name", errors.name)} />
        </FieldShell>
        {kind === "once" ? (
          <>
            <FieldShell id="mw-start" label="Starts" required description="In your browser's time." error={errors.starts_at}>
              <input id="mw-start" type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} {...fieldAria("mw-start", errors.starts_at, true)} />
            </FieldShell>
            <FieldShell id="mw-end" label="Ends" required error={errors.ends_at}>
              <input id="mw-end" type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} {...fieldAria("mw-end", errors.ends_at)} />
            </FieldShell>
          </>
        ) : (
          <>
            {kind === "weekly" ? (
              <>
                <fieldset className="field check-group" aria-describedby={errors.weekdays ? "mw-days-error" : undefined}>
                  <legend className="field-label">Days</legend>
                  <div className="check-list">
                    {WEEKDAYS.map((d, i) => (
                      <label className="check" key={d}>
                        <input
                          type="checkbox"
                          checked={weekdays.includes(i)}
                          onChange={(e) => setWeekdays((w) => (e.target.checked ? [...w, i] : w.filter((x) => x !== i)))}
                        />
                        <span>{d}</span>
                      </label>
                    ))}
                  </div>
                  <FieldNotes id="mw-days" error={errors.weekdays} />
                </fieldset>
                <FieldShell id="mw-time" label="At" required description="Local time in the time zone below." error={errors.start_time}>
                  <input id="mw-time" type="time" value={startTime} onChange={(e) => setStartTime(e.target.value)} {...fieldAria("mw-time", errors.start_time, true)} />
                </FieldShell>
              </>
            ) : (
              <FieldShell id="mw-cron" label="Cron" required description="Minute hour day month weekday; 0 = Sunday." error={errors.cron}>
                <input id="mw-cron" className="mono" value={cron} autoComplete="off" onChange={(e) => setCron(e.target.value)} {...fieldAria("mw-cron", errors.cron, true)} />
              </FieldShell>
            )}
            <FieldShell id="mw-minutes" label="Lasts (minutes)" required error={errors.duration_seconds}>
              <input id="mw-minutes" type="number" min={1} max={10080} value={minutes} onChange={(e) => setMinutes(e.target.value)} {...fieldAria("mw-minutes", errors.duration_seconds)} />
            </FieldShell>
            <FieldShell id="mw-tz" label="Time zone" required description="An IANA name, e.g. Europe/Berlin." error={errors.timezone}>
              <input id="mw-tz" value={timezone} autoComplete="off" onChange={(e) => setTimezone(e.target.value)} {...fieldAria("mw-tz", errors.timezone, true)} />
            </FieldShell>
          </>
        )}
        <FieldShell id="mw-comment" label="Comment" wide description="Why: shown to everyone." error={errors.comment}>
          <input id="mw-comment" value={comment} autoComplete="off" onChange={(e) => setComment(e.target.value)} {...fieldAria("mw-comment", errors.comment, true)} />
        </FieldShell>
        <div className="field wide">
          <label className="radio">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
            <span>All plugins</span>
          </label>
        </div>
        {!all ? (
          <FieldShell id="mw-plugins" label="Plugins" required wide description="Hold Ctrl or ⌘ to choose several." error={errors.plugin_ids}>
            <select
              id="mw-plugins"
              multiple
              size={Math.min(6, Math.max(3, plugins.data?.length ?? 3))}
              value={chosen.map(String)}
              onChange={(e) => setChosen([...e.target.selectedOptions].map((o) => Number(o.value)))}
              {...fieldAria("mw-plugins", errors.plugin_ids, true)}
            >
              <IdOptions items={plugins.data} />
            </select>
          </FieldShell>
        ) : null}
      </div>
      <FormFooter
        formError={formError}
        onCancel={onDone}
        busy={create.isPending || update.isPending}
        busyLabel={w ? "Saving…" : "Planning…"}
        submitLabel={w ? "Save window" : "Plan window"}
      />
    </form>
  );
}

export function MaintenancePage({ user }: { user: User }) {
  const windows = useMaintenance();
  const plugins = useFreshPlugins();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Maintenance | null>(null);
  const [doomed, setDoomed] = useState<Maintenance | null>(null);
  const isAdmin = user.role === "admin";
  const managed = useManaged();
  const endNow = useEndMaintenance({
    onSuccess: (w) => toast(w.kind === "once" ? "Maintenance ended." : "Maintenance ended; it no longer recurs."),
    onError: (e) => toast(errorMessage(e), "error"),
  });
  const del = useDeleteMaintenance({
    onSuccess: () => {
      setDoomed(null);
      toast("Maintenance window deleted.");
    },
  });
  const list = [...(windows.data ?? [])].sort((a, b) => Number(b.active) - Number(a.active));

  return (
    <div className="page stack">
      <div className="page-head">
        <div>
          <h1>Maintenance</h1>
          <p className="muted">Planned work: notifications are muted and the time counts neither as up nor as down. Silences only mute.</p>
        </div>
        {isAdmin && !adding && !editing ? (
          <div className="actions">
            <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
              + New window
            </button>
          </div>
        ) : null}
      </div>
      {!isAdmin ? <AdminNote what="maintenance windows" /> : null}
      {adding ? <MaintenanceForm onDone={() => setAdding(false)} /> : null}
      {editing ? <MaintenanceForm key={editing.id} editing={editing} onDone={() => setEditing(null)} /> : null}
      <QueryState query={windows} loading="Loading maintenance windows…" failed="Could not load maintenance windows">
        {() =>
          list.length === 0 ? (
            <EmptyState title="No maintenance windows">Plan one before a firmware upgrade or for nightly backups, so planned downtime neither pages you nor lowers uptime.</EmptyState>
          ) : (
            <section className="card">
              <Table caption="Maintenance windows" columns={["Name", "Schedule", "Time zone", "Plugins", "Active now"]} actions={isAdmin}>
                {list.map((w) => {
                  const file = managedBy(managed.data, "maintenance_windows", w.name);
                  return (
                    <tr key={w.id} data-window={w.id}>
                      <td>
                        {w.name}
                        {w.comment ? <div className="muted small">{w.comment}</div> : null}
                        {file ? <div className="muted small">Managed by {file}</div> : null}
                      </td>
                      <td className="small">
                        {scheduleText(w)}
                        {w.next_start && !w.active ? <div className="muted">Next: {formatDateTime(w.next_start)}</div> : null}
                      </td>
                      <td className="small">{w.timezone}</td>
                      <td className="small">{coverage(w, plugins.data)}</td>
                      <td>{w.active ? <Pill kind="active">Active</Pill> : <span className="muted">No</span>}</td>
                      {isAdmin ? (
                        <td>
                          {file ? (
                            <span className="muted small">Edit it in {file}</span>
                          ) : (
                            <div className="row-actions">
                              {w.active || (w.kind !== "once" && w.next_start) ? (
                                <button type="button" className="btn btn-sm" onClick={() => endNow.mutate(w.id)} disabled={endNow.isPending}>
                                  End
                                </button>
                              ) : null}
                              <button type="button" className="btn btn-sm" onClick={() => (setAdding(false), setEditing(w))}>
                                Edit
                              </button>
                              <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDoomed(w)}>
                                Delete
                              </button>
                            </div>
                          )}
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </Table>
            </section>
          )
        }
      </QueryState>
      {doomed ? (
        <ConfirmDelete
          id={doomed.id}
          deletion={del}
          title={`Delete “${doomed.name}”?`}
          message="It stops muting at once. Its past minutes stay maintenance in uptime."
          confirmLabel="Delete window"
          onCancel={() => setDoomed(null)}
        />
      ) : null}
    </div>
  );
}
