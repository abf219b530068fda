// Settings → Configuration (admins): download the YAML export, paste or upload a file, see the
// dry run's planned changes, then apply them. Problems in the file are listed with line and column.
import { useId, useState, type ChangeEvent } from "react";
import { ApiError, errorMessage } from "../api/client";
import { exportConfig, useApplyConfig, type ConfigApply } from "../api/config";
import type { User } from "../api/session";
import { Link } from "../router";

function download(text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "unity.yaml";
  a.click();
  URL.revokeObjectURL(url);
}

/** The API's 422: one sentence, then "line L, column C: …" per path of the file. */
function Problems({ error }: { error: Error }) {
  const fields = error instanceof ApiError ? Object.entries(error.fields) : [];
  return (
    <div className="banner banner-error" role="alert">
      <p>{errorMessage(error)}</p>
      {fields.length ? (
        <ul aria-label="Problems in the file">
          {fields.map(([path, said]) => (
            <li key={path}>
              <code>{path}</code> {said}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function Plan({ result }: { result: ConfigApply }) {
  return (
    <div className={result.applied ? "banner banner-ok" : "banner"} role="status">
      <p>
        <strong>
          {result.applied
            ? `Applied ${result.changes.length} change${result.changes.length === 1 ? "" : "s"}.`
            : result.changes.length
              ? `Dry run: ${result.changes.length} planned change${result.changes.length === 1 ? "" : "s"}, nothing changed yet.`
              : "No changes: the database already matches the file."}
        </strong>
      </p>
      <ul className="config-plan" aria-label="Planned changes">
        {result.summary.map((line, i) => (
          <li key={i}>
            <code>{line}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ConfigPage({ user }: { user: User }) {
  const [text, setText] = useState("");
  const [prune, setPrune] = useState(false);
  const [exporting, setExporting] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  // The dry run that the Apply button would carry out: editing the text or prune drops it.
  const [planned, setPlanned] = useState<{ text: string; prune: boolean } | null>(null);
  const apply = useApplyConfig();
  const ids = { text: useId(), file: useId() };
  if (user.role !== "admin")
    return (
      <div className="page narrow">
        <h1>Configuration</h1>
        <p>Only admins can export or apply the configuration.</p>
      </div>
    );

  const edit = (next: string) => {
    setText(next);
    setPlanned(null);
    apply.reset();
  };
  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) void file.text().then(edit);
  };
  const run = (dryRun: boolean) =>
    apply.mutate({ text, dryRun, prune }, { onSuccess: (r) => setPlanned(r.dry_run && r.changes.length ? { text, prune } : null) });
  const ready = planned !== null && planned.text === text && planned.prune === prune;

  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <p className="muted">
            <Link to="/settings">Settings</Link> / Configuration
          </p>
          <h1>Configuration</h1>
          <p className="muted">
            Plugins, channels, alert rules, silences and maintenance windows as one YAML file: keep it in git, edit it, and
            apply it here or with <code>python -m app config apply</code>. Secrets are written as <code>{"${NAME}"}</code>{" "}
            references to the server's environment; applied here, a reference that is not set keeps the stored secret.
          </p>
        </div>
      </div>
      <section className="card">
        <h2>Export</h2>
        <div className="form-actions">
          <button
            type="button"
            className="btn"
            disabled={exporting.busy}
            onClick={() => {
              setExporting({ busy: true, error: null });
              exportConfig()
                .then((t) => {
                  download(t);
                  setExporting({ busy: false, error: null });
                })
                .catch((e: unknown) => setExporting({ busy: false, error: errorMessage(e) }));
            }}
          >
            Download unity.yaml
          </button>
          <button
            type="button"
            className="btn btn-ghost"
            disabled={exporting.busy}
            onClick={() => {
              exportConfig()
                .then(edit)
                .catch((e: unknown) => setExporting({ busy: false, error: errorMessage(e) }));
            }}
          >
            Load into the editor
          </button>
        </div>
        {exporting.error ? (
          <p className="field-error" role="alert">
            {exporting.error}
          </p>
        ) : null}
      </section>
      <section className="card">
        <h2>Apply</h2>
        <div className="field">
          <label htmlFor={ids.file}>Upload a file</label>
          <input id={ids.file} type="file" accept=".yaml,.yml,.json,application/yaml,text/yaml" onChange={onFile} />
        </div>
        <div className="field">
          <label htmlFor={ids.text}>Configuration file (YAML)</label>
          <textarea
            id={ids.text}
            className="mono"
            rows={16}
            spellCheck={false}
            value={text}
            placeholder={"plugins:\n  - name: NAS\n    type: ping\n    config: {host: 192.168.1.20}"}
            onChange={(e) => edit(e.target.value)}
          />
        </div>
        <label className="radio">
          <input
            type="checkbox"
            checked={prune}
            onChange={(e) => {
              setPrune(e.target.checked);
              apply.reset();
            }}
          />
          Prune: also remove objects of the kinds the file lists that the file leaves out
        </label>
        <div className="form-actions">
          <button type="button" className="btn" disabled={!text.trim() || apply.isPending} onClick={() => run(true)}>
            Dry run
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={!ready || apply.isPending}
            title={ready ? undefined : "Run a dry run of this text first"}
            onClick={() => run(false)}
          >
            Apply
          </button>
        </div>
        {apply.error ? <Problems error={apply.error} /> : null}
        {apply.data ? <Plan result={apply.data} /> : null}
      </section>
    </div>
  );
}
