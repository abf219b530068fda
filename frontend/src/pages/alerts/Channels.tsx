// Notification channels (Apprise URLs, stored encrypted and never shown again), "send test",
// and each channel's delivery log.
import { useState, type FormEvent } from "react";
import {
  useChannels,
  useDeleteChannel,
  useDeliveries,
  useSaveChannel,
  useTestChannel,
  type Channel,
  type ChannelTest,
} from "../../api/channels";
import type { User } from "../../api/session";
import { errorMessage } from "../../api/client";
import { formErrors, topLevel } from "../../forms/apiErrors";
import { Link } from "../../router";
import { EmptyState, ErrorState, Modal, Pager, QueryState, Spinner, Table, useToast } from "../../components/ui";
import { FieldShell, fieldAria } from "../../forms/SchemaForm";
import { timeAgo } from "../../format";
import { DeliveryTable } from "./IncidentTable";
import { AdminNote, Pill } from "./common";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { managedBy, useManaged } from "../../api/config";
import { CHANNEL_KINDS, buildChannelUrl } from "./channelKinds";
import { TimingFields, timingBody, timingOf, timingText } from "./ChannelTiming";

const RAW = "raw";

/** The chosen service's fields; "Other" is the raw Apprise URL field below. */
function KindFields({
  kindId,
  values,
  errors,
  onChange,
}: {
  kindId: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  onChange: (key: string, value: string) => void;
}) {
  const kind = CHANNEL_KINDS.find((k) => k.id === kindId);
  if (!kind) return null;
  return (
    <>
      {kind.fields.map((f) => {
        const id = `ch-${kind.id}-${f.key}`;
        return (
          <FieldShell key={id} id={id} label={f.label} required={!f.optional} description={f.help} error={errors[f.key]}>
            <input
              id={id}
              type={f.secret ? "password" : "text"}
              placeholder={f.placeholder}
              value={values[f.key] ?? ""}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => onChange(f.key, e.target.value)}
              {...fieldAria(id, errors[f.key], Boolean(f.help))}
            />
          </FieldShell>
        );
      })}
    </>
  );
}

export const MASK = "********";

function ChannelDialog({ channel, onClose }: { channel?: Channel; onClose: () => void }) {
  const [v, setV] = useState({
    name: channel?.name ?? "",
    url: channel ? MASK : "",
    enabled: channel?.enabled ?? true,
    send_resolved: channel?.send_resolved ?? true,
  });
  const [timing, setTiming] = useState(() => timingOf(channel));
  const [show, setShow] = useState(false);
  // A new channel starts guided; an existing one keeps its stored URL unless a service is chosen.
  const [kindId, setKindId] = useState(channel ? RAW : CHANNEL_KINDS[0].id);
  const [kindValues, setKindValues] = useState<Record<string, string>>({});
  const [kindErrors, setKindErrors] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const toast = useToast();
  const save = useSaveChannel(channel?.id, {
    onSuccess: (c) => {
      toast(channel ? "Channel saved." : `Channel added (${c.service}). Send a test to check it.`);
      onClose();
    },
    onError: (e) => {
      const { fields, banner } = formErrors(e, topLevel("name", "url", "enabled", "send_resolved", "group_seconds", "quiet_start", "quiet_end", "quiet_timezone"));
      setErrors(fields);
      setFormError(banner);
    },
  });
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const errs: Record<string, string> = {};
    if (!v.name.trim()) errs.name = "Name the channel, e.g. “Phone (ntfy)”.";
    let url = v.url.trim();
    const kind = CHANNEL_KINDS.find((k) => k.id === kindId);
    if (kind) {
      const built = buildChannelUrl(kind, kindValues);
      setKindErrors(built.errors);
      url = built.url ?? "";
    } else if (url.length < 3) errs.url = "Enter an Apprise URL, e.g. ntfys://ntfy.sh/my-topic.";
    else if (url !== MASK && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) errs.url = "An Apprise URL starts with a scheme, e.g. ntfys://, discord:// or json://.";
    const timed = timingBody(timing);
    Object.assign(errs, timed.errors);
    setErrors(errs);
    if (Object.keys(errs).length || !url) return;
    save.mutate({ name: v.name.trim(), enabled: v.enabled, send_resolved: v.send_resolved, url, ...timed.body });
  };
  return (
    <Modal
      title={channel ? `Edit “${channel.name}”` : "Add a channel"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="channel-form" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : channel ? "Save channel" : "Add channel"}
          </button>
        </>
      }
    >
      <form id="channel-form" className="stack modal-form" onSubmit={submit} noValidate>
        <FieldShell id="ch-name" label="Name" required error={errors.name}>
          <input id="ch-name" data-autofocus value={v.name} autoComplete="off" onChange={(e) => setV({ ...v, name: e.target.value })} {...fieldAria("ch-name", errors.name)} />
        </FieldShell>
        <FieldShell
          id="ch-service"
          label="Service"
          description={kindId === RAW ? "Any of Apprise's 100+ services, as a URL." : "Unity builds the Apprise URL from these fields; choose “Other” to type one."}
          error={kindId === RAW ? undefined : errors.url}
        >
          <select id="ch-service" value={kindId} onChange={(e) => setKindId(e.target.value)} {...fieldAria("ch-service", kindId === RAW ? undefined : errors.url, true)}>
            {CHANNEL_KINDS.map((k) => (
              <option key={k.id} value={k.id}>
                {k.label}
              </option>
            ))}
            <option value={RAW}>{channel ? "Keep or type an Apprise URL" : "Other (Apprise URL)"}</option>
          </select>
        </FieldShell>
        <KindFields kindId={kindId} values={kindValues} errors={kindErrors} onChange={(key, value) => setKindValues({ ...kindValues, [key]: value })} />
        {kindId === RAW ? (
          <FieldShell
            id="ch-url"
            label="Apprise URL"
            required
            description={channel ? "Stored encrypted. Leave ******** to keep it, or type a new URL." : "Stored encrypted and never shown again. e.g. ntfys://ntfy.sh/topic, discord://id/token, json://host/path"}
            error={errors.url}
          >
            <div className="copy-row tight">
              <input
                id="ch-url"
                type={show ? "text" : "password"}
                className="mono"
                value={v.url}
                autoComplete="off"
                spellCheck={false}
                onFocus={(e) => v.url === MASK && e.target.select()}
                onChange={(e) => setV({ ...v, url: e.target.value })}
                {...fieldAria("ch-url", errors.url, true)}
              />
              <button type="button" className="btn btn-sm" onClick={() => setShow(!show)} aria-pressed={show} disabled={v.url === MASK}>
                {show ? "Hide" : "Show"}
              </button>
            </div>
          </FieldShell>
        ) : null}
        <label className="check">
          <input type="checkbox" checked={v.enabled} onChange={(e) => setV({ ...v, enabled: e.target.checked })} />
          <span>Enabled</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={v.send_resolved} onChange={(e) => setV({ ...v, send_resolved: e.target.checked })} />
          <span>Also send a notice when an alert resolves</span>
        </label>
        <TimingFields t={timing} errors={errors} onChange={setTiming} />
        {formError ? (
          <p className="form-error" role="alert">
            {formError}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}

function TestResult({ r }: { r: ChannelTest | { ok: false; error: string } }) {
  return (
    <p className={`test-result ${r.ok ? "ok" : "bad"}`} role="status" data-testid="test-result">
      {r.ok ? "✓ Test sent." : `✗ ${r.error ?? "The test failed."}`}
    </p>
  );
}

function useSendTest() {
  const [results, setResults] = useState<Record<number, ChannelTest | { ok: false; error: string }>>({});
  const m = useTestChannel({
    onSuccess: (r, id) => setResults((old) => ({ ...old, [id]: r })),
    onError: (e, id) => setResults((old) => ({ ...old, [id]: { ok: false, error: errorMessage(e) } })),
  });
  const send = (id: number) => {
    setResults(({ [id]: _old, ...rest }) => rest);
    m.mutate(id);
  };
  return { results, send, pendingId: m.isPending ? m.variables : undefined };
}

export function ChannelsPage({ user }: { user: User }) {
  const channels = useChannels();
  const toast = useToast();
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const [doomed, setDoomed] = useState<Channel | null>(null);
  const test = useSendTest();
  const isAdmin = user.role === "admin";
  const managed = useManaged();
  const del = useDeleteChannel({
    onSuccess: () => {
      setDoomed(null);
      toast("Channel deleted.");
    },
  });

  return (
    <div className="stack">
      <div className="section-head tight">
        <p className="muted">
          Channels deliver notices through Apprise: ntfy, Gotify, Discord, Telegram, Slack, Matrix, email, webhooks and more.
        </p>
        {isAdmin ? (
          <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
            + Add channel
          </button>
        ) : null}
      </div>
      {!isAdmin ? <AdminNote what="channels" /> : null}
      <QueryState query={channels} loading="Loading channels…" failed="Could not load channels">
        {(data) =>
          data.length === 0 ? (
            <EmptyState
              title="No channels yet"
              action={
                isAdmin ? (
                  <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
                    Add a channel
                  </button>
                ) : undefined
              }
            >
              Add one with an Apprise URL (for example <code>ntfys://ntfy.sh/my-topic</code>) so rules can notify you on your phone, chat or email.
            </EmptyState>
          ) : (
            <section className="card">
              <Table caption="Notification channels" columns={["Channel", "Service", "Sends"]} actions>
                {data.map((c) => (
                  <tr key={c.id} data-channel={c.id} className={c.enabled ? undefined : "row-muted"}>
                    <td>
                      <Link to={`/alerts/channels/${c.id}`} className="strong-link">
                        {c.name}
                      </Link>
                      {!c.enabled ? <div className="muted small">disabled</div> : null}
                      {managedBy(managed.data, "channels", c.name) ? <div className="muted small">managed by {managed.data?.file}</div> : null}
                      {test.results[c.id] ? <TestResult r={test.results[c.id]} /> : null}
                    </td>
                    <td>{c.service}</td>
                    <td className="small">
                      {c.send_resolved ? "firing and resolved" : "firing only"}
                      <div className="muted">{timingText(c)}</div>
                      {c.quiet_now ? <Pill kind="upcoming">quiet now</Pill> : null}
                    </td>
                    <td>
                      <div className="row-actions">
                        {isAdmin ? (
                          <>
                            <button type="button" className="btn btn-sm" onClick={() => test.send(c.id)} disabled={test.pendingId === c.id}>
                              {test.pendingId === c.id ? "Sending…" : "Send test"}
                              <span className="sr-only"> to {c.name}</span>
                            </button>
                            {managedBy(managed.data, "channels", c.name) ? null : (
                              <>
                                <button type="button" className="btn btn-sm" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                                  Edit
                                </button>
                                <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDoomed(c)} aria-label={`Delete ${c.name}`}>
                                  Delete
                                </button>
                              </>
                            )}
                          </>
                        ) : null}
                        <Link to={`/alerts/channels/${c.id}`} className="btn btn-sm btn-ghost">
                          Log
                        </Link>
                      </div>
                    </td>
                  </tr>
                ))}
              </Table>
            </section>
          )}
      </QueryState>
      {editing ? <ChannelDialog channel={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} /> : null}
      {doomed ? (
        <ConfirmDelete
          id={doomed.id}
          deletion={del}
          title={`Delete “${doomed.name}”?`}
          message="Rules stop notifying it and its delivery log is removed."
          confirmLabel="Delete channel"
          onCancel={() => setDoomed(null)}
        />
      ) : null}
    </div>
  );
}

const LOG_PAGE = 25;

export function ChannelLogPage({ id, user }: { id: number; user: User }) {
  const channels = useChannels();
  const [page, setPage] = useState(0);
  const log = useDeliveries(id, LOG_PAGE, page * LOG_PAGE);
  const test = useSendTest();
  const c = channels.data?.find((x) => x.id === id);
  if (channels.isPending) return <Spinner label="Loading channel…" />;
  if (channels.isError) return <ErrorState title="Could not load the channel" error={channels.error} onRetry={() => channels.refetch()} />;
  if (!c)
    return (
      <EmptyState title="Channel not found" action={<Link to="/alerts/channels" className="btn">All channels</Link>}>
        It may have been deleted.
      </EmptyState>
    );
  const pages = log.data ? Math.max(1, Math.ceil(log.data.total / LOG_PAGE)) : 1;
  return (
    <div className="stack">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/alerts/channels">Channels</Link> <span aria-hidden="true">/</span> <span aria-current="page">{c.name}</span>
      </nav>
      <div className="page-head">
        <div>
          <h2 className="with-badge">
            {c.name} {c.enabled ? <Pill kind="active">enabled</Pill> : <Pill kind="expired">disabled</Pill>}
          </h2>
          <p className="muted">
            {c.service} · {c.send_resolved ? "firing and resolved notices" : "firing notices only"} · {timingText(c)} · added {timeAgo(c.created_at)}
          </p>
          {test.results[c.id] ? <TestResult r={test.results[c.id]} /> : null}
        </div>
        {user.role === "admin" ? (
          <button type="button" className="btn" onClick={() => test.send(c.id)} disabled={test.pendingId === c.id}>
            {test.pendingId === c.id ? "Sending…" : "Send test"}
          </button>
        ) : null}
      </div>
      <section className="card" aria-labelledby="log-title">
        <h2 id="log-title">Delivery log</h2>
        <QueryState query={log} loading="Loading deliveries…" failed="Could not load the delivery log">
          {(data) =>
            data.items.length === 0 ? (
              <EmptyState title="Nothing sent yet">Notices from rules that use this channel, and tests, are listed here.</EmptyState>
            ) : (
              <>
                <DeliveryTable items={data.items} />
                {pages > 1 ? <Pager page={page} pages={pages} onPage={setPage} /> : null}
                <p className="muted small">Failed deliveries are retried with growing delays before they are marked failed.</p>
              </>
            )}
        </QueryState>
      </section>
    </div>
  );
}
