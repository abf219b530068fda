// Users (admin only) and API tokens for scripts.
import { useState, type FormEvent } from "react";
import {
  useCreateToken,
  useCreateUser,
  useDeleteToken,
  useTokens,
  useUpdateUser,
  useUsers,
  type ApiToken,
  type ApiTokenCreated,
  type Role,
  type User,
} from "../api/users";
import { ApiError, errorMessage } from "../api/client";
import { useTotpReset } from "../api/totp";
import { formErrors, topLevel } from "../forms/apiErrors";
import { CopyField, EmptyState, Modal, QueryState, Table, useToast } from "../components/ui";
import { FieldShell, fieldAria } from "../forms/SchemaForm";
import { formatDateTime, timeAgo } from "../format";
import { ConfirmDelete } from "../components/ConfirmDelete";

export function UsersPage({ me }: { me: User }) {
  const users = useUsers(me.role === "admin");
  const toast = useToast();
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" as Role });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pwUser, setPwUser] = useState<User | null>(null);

  const create = useCreateUser({
    onSuccess: (u) => {
      setForm({ username: "", password: "", role: "viewer" });
      setErrors({});
      setFormError(null);
      toast(`User ${u.username} created.`);
    },
    onError: (e) => {
      const { fields, banner } = formErrors(e, topLevel("username", "password", "role"));
      setErrors(fields);
      setFormError(e instanceof ApiError && e.status === 409 ? "That username is taken." : banner);
    },
  });
  const update = useUpdateUser({
    onSuccess: () => {
      toast("User updated.");
    },
    onError: (e) => toast(errorMessage(e), "error"),
  });

  const resetTotp = useTotpReset({
    onSuccess: (u) => toast(`Two-factor of ${u.username} is off: they sign in with the password, then enrol again.`),
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
                    {u.totp_enabled ? (
                      <button type="button" className="btn btn-sm" onClick={() => resetTotp.mutate(u.id)}>
                        Reset two-factor
                      </button>
                    ) : null}
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
            <input id="new-username" value={form.username} autoComplete="off" onChange={(e) => setForm({ ...form, username: e.target.value })} {...fieldAria("new-username", errors.username)} />
          </FieldShell>
          <FieldShell id="new-password" label="Password" required description="At least 8 characters." error={errors.password}>
            <input id="new-password" type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} {...fieldAria("new-password", errors.password, true)} />
          </FieldShell>
          <FieldShell id="new-role" label="Role" required error={errors.role}>
            <select id="new-role" {...fieldAria("new-role", errors.role)} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
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
  const save = useUpdateUser({
    onSuccess: () => {
      toast(`Password for ${user.username} changed.`);
      onClose();
    },
    onError: (e) => setErr(formErrors(e, topLevel("password")).fields.password ?? errorMessage(e)),
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
            onClick={() => (pw.length < 8 ? setErr("Use at least 8 characters.") : save.mutate({ id: user.id, body: { password: pw } }))}
          >
            Save password
          </button>
        </>
      }
    >
      <FieldShell id="pw-new" label="New password" required error={err ?? undefined}>
        <input id="pw-new" {...fieldAria("pw-new", err ?? undefined)} type="password" autoComplete="new-password" value={pw} onChange={(e) => setPw(e.target.value)} data-autofocus />
      </FieldShell>
    </Modal>
  );
}

export function TokensPage() {
  const tokens = useTokens();
  const toast = useToast();
  const [name, setName] = useState("");
  const [nameErr, setNameErr] = useState<string | null>(null);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoke, setRevoke] = useState<ApiToken | null>(null);

  const create = useCreateToken({
    onSuccess: (t) => {
      setCreated(t);
      setName("");
    },
    onError: (e) => setNameErr(formErrors(e, topLevel("name")).fields.name ?? errorMessage(e)),
  });
  const del = useDeleteToken({
    onSuccess: () => {
      setRevoke(null);
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
            <input id="token-name" value={name} placeholder="e.g. backup-script" autoComplete="off" onChange={(e) => setName(e.target.value)} {...fieldAria("token-name", nameErr ?? undefined)} />
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
            <CopyField key={created.token} label="New token" text={created.token} hideLabel>
              <button type="button" className="btn btn-ghost" onClick={() => setCreated(null)}>
                Done
              </button>
            </CopyField>
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
        <ConfirmDelete
          id={revoke.id}
          deletion={del}
          title={`Revoke “${revoke.name}”?`}
          message="Scripts using it will get 401 errors from now on."
          confirmLabel="Revoke token"
          onCancel={() => setRevoke(null)}
        />
      ) : null}
    </div>
  );
}
