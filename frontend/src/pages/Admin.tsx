// Users (admin only) and API tokens for scripts.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as api from "../api/endpoints";
import { qk } from "../api/queries";
import type { ApiToken, ApiTokenCreated, Role, User } from "../api/types";
import { ApiError, errorMessage } from "../api/client";
import { ConfirmDialog, EmptyState, Modal, QueryState, Table, useToast } from "../components/ui";
import { FieldShell } from "../forms/SchemaForm";
import { formatDateTime, timeAgo } from "../format";

export function UsersPage({ me }: { me: User }) {
  const users = useQuery({ queryKey: qk.users, queryFn: api.listUsers, enabled: me.role === "admin" });
  const qc = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" as Role });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pwUser, setPwUser] = useState<User | null>(null);

  const create = useMutation({
    mutationFn: api.createUser,
    onSuccess: (u) => {
      void qc.invalidateQueries({ queryKey: qk.users });
      setForm({ username: "", password: "", role: "viewer" });
      setErrors({});
      setFormError(null);
      toast(`User ${u?.username ?? ""} created.`);
    },
    onError: (e) => {
      if (e instanceof ApiError) {
        setErrors(e.fieldErrors);
        setFormError(e.status === 409 ? "That username is taken." : e.message);
      } else setFormError(errorMessage(e));
    },
  });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: number; body: Parameters<typeof api.updateUser>[1] }) => api.updateUser(id, body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.users });
      toast("User updated.");
    },
    onError: (e) => toast(errorMessage(e), "error"),
  });

  if (me.role !== "admin") return <EmptyState title="Administrators only">Ask an administrator to manage users.</EmptyState>;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!form.username.trim()) errs.username = "Enter a username.";
    if (form.password.length < 8) errs.password = "Use at least 8 characters.";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    create.mutate({ ...form, username: form.username.trim() });
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Users</h1>
          <p className="muted">Admins can change plugins and users; viewers can only look.</p>
        </div>
      </div>
      <section className="card">
        <QueryState query={users} failed="Could not load users">
          {(data) => (
            <Table caption="Users" columns={["Username", "Role", "Status"]} actions>
              {data.map((u) => (
                <tr key={u.id}>
                  <td>
                    {u.username} {u.id === me.id ? <span className="muted small">(you)</span> : null}
                  </td>
                  <td>
                    <label className="sr-only" htmlFor={`role-${u.id}`}>
                      Role of {u.username}
                    </label>
                    <select id={`role-${u.id}`} value={u.role} disabled={u.id === me.id} onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as Role } })}>
                      <option value="admin">admin</option>
                      <option value="viewer">viewer</option>
                    </select>
                  </td>
                  <td>{u.disabled ? <span className="badge badge-disabled">disabled</span> : <span className="badge badge-healthy">active</span>}</td>
                  <td className="row-actions">
                    <button type="button" className="btn btn-sm" onClick={() => setPwUser(u)}>
                      Set password
                    </button>
                    <button type="button" className="btn btn-sm" disabled={u.id === me.id} onClick={() => update.mutate({ id: u.id, body: { disabled: !u.disabled } })}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </QueryState>
      </section>
      <section className="card form-card">
        <h2>Add a user</h2>
        <form onSubmit={submit} noValidate className="form-grid">
          <FieldShell id="new-username" label="Username" required error={errors.username}>
            <input id="new-username" value={form.username} autoComplete="off" onChange={(e) => setForm({ ...form, username: e.target.value })} aria-invalid={!!errors.username || undefined} />
          </FieldShell>
          <FieldShell id="new-password" label="Password" required description="At least 8 characters." error={errors.password}>
            <input id="new-password" type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} aria-invalid={!!errors.password || undefined} aria-describedby="new-password-help" />
          </FieldShell>
          <FieldShell id="new-role" label="Role" required>
            <select id="new-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
              <option value="viewer">viewer (read only)</option>
              <option value="admin">admin</option>
            </select>
          </FieldShell>
          <div className="field form-actions-inline">
            <button type="submit" className="btn btn-primary" disabled={create.isPending}>
              {create.isPending ? "Adding…" : "Add user"}
            </button>
          </div>
        </form>
        {formError ? (
          <p className="form-error" role="alert">
            {formError}
          </p>
        ) : null}
      </section>
      {pwUser ? <PasswordDialog user={pwUser} onClose={() => setPwUser(null)} /> : null}
    </div>
  );
}

function PasswordDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const [pw, setPw] = useState("");
  const [err, setErr] = useState<string | null>(null);
  const toast = useToast();
  const save = useMutation({
    mutationFn: () => api.updateUser(user.id, { password: pw }),
    onSuccess: () => {
      toast(`Password for ${user.username} changed.`);
      onClose();
    },
    onError: (e) => setErr(errorMessage(e)),
  });
  return (
    <Modal
      title={`Set password for ${user.username}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={save.isPending}
            onClick={() => (pw.length < 8 ? setErr("Use at least 8 characters.") : save.mutate())}
          >
            Save password
          </button>
        </>
      }
    >
      <FieldShell id="pw-new" label="New password" required error={err ?? undefined}>
        <input id="pw-new" type="password" autoComplete="new-password" value={pw} onChange={(e) => setPw(e.target.value)} data-autofocus />
      </FieldShell>
    </Modal>
  );
}

export function TokensPage() {
  const tokens = useQuery({ queryKey: qk.tokens, queryFn: api.listTokens });
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState("");
  const [nameErr, setNameErr] = useState<string | null>(null);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoke, setRevoke] = useState<ApiToken | null>(null);
  const [copied, setCopied] = useState(false);

  const create = useMutation({
    mutationFn: (n: string) => api.createToken(n),
    onSuccess: (t) => {
      setCreated(t);
      setCopied(false);
      setName("");
      void qc.invalidateQueries({ queryKey: qk.tokens });
    },
    onError: (e) => setNameErr(errorMessage(e)),
  });
  const del = useMutation({
    mutationFn: (id: number) => api.deleteToken(id),
    onSuccess: () => {
      setRevoke(null);
      void qc.invalidateQueries({ queryKey: qk.tokens });
      toast("Token revoked.");
    },
  });

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>API tokens</h1>
          <p className="muted">
            Long-lived tokens for scripts and <code>curl</code>: send <code>Authorization: Bearer &lt;token&gt;</code>.
          </p>
        </div>
      </div>
      <section className="card form-card">
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!name.trim()) return setNameErr("Name the token after the script that will use it.");
            setNameErr(null);
            create.mutate(name.trim());
          }}
        >
          <FieldShell id="token-name" label="Token name" required error={nameErr ?? undefined}>
            <input id="token-name" value={name} placeholder="e.g. backup-script" autoComplete="off" onChange={(e) => setName(e.target.value)} aria-invalid={!!nameErr || undefined} />
          </FieldShell>
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create token"}
          </button>
        </form>
        {created ? (
          <div className="secret-once" role="status">
            <p>
              <strong>Copy this token now.</strong> It is shown only once.
            </p>
            <div className="copy-row">
              <label className="sr-only" htmlFor="new-token">
                New token
              </label>
              <input id="new-token" readOnly value={created.token} onFocus={(e) => e.target.select()} className="mono" />
              <button
                type="button"
                className="btn"
                onClick={async () => {
                  try {
                    await navigator.clipboard.writeText(created.token);
                    setCopied(true);
                  } catch {
                    (document.getElementById("new-token") as HTMLInputElement | null)?.select();
                  }
                }}
              >
                {copied ? "Copied" : "Copy"}
              </button>
              <button type="button" className="btn btn-ghost" onClick={() => setCreated(null)}>
                Done
              </button>
            </div>
          </div>
        ) : null}
      </section>
      <section className="card">
        <QueryState query={tokens} failed="Could not load tokens">
          {(data) =>
            data.length === 0 ? (
              <EmptyState title="No API tokens">Create one above to script Unity.</EmptyState>
            ) : (
              <Table caption="API tokens" columns={["Name", "Created", "Last used"]} actions>
                {data.map((t) => (
                  <tr key={t.id}>
                    <td>
                      {t.name} {t.prefix ? <code className="muted">{t.prefix}…</code> : null}
                    </td>
                    <td title={formatDateTime(t.created_at)}>{timeAgo(t.created_at)}</td>
                    <td>{t.last_used_at ? timeAgo(t.last_used_at) : "never"}</td>
                    <td className="row-actions">
                      <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setRevoke(t)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </Table>
            )}
        </QueryState>
      </section>
      {revoke ? (
        <ConfirmDialog
          title={`Revoke “${revoke.name}”?`}
          message="Scripts using it will get 401 errors from now on."
          confirmLabel="Revoke token"
          danger
          busy={del.isPending}
          error={del.error}
          onConfirm={() => del.mutate(revoke.id)}
          onCancel={() => setRevoke(null)}
        />
      ) : null}
    </div>
  );
}
