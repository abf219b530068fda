// A push plugin's secret URL for admins: revealed on request, copyable, rotatable (the old URL
// stops working at once), with copy-ready curl, crontab, systemd and PowerShell snippets.
import { useState } from "react";
import { usePushToken, useRotatePushToken } from "../api/push";
import { ConfirmDialog, CopyField, ErrorState, Spinner, useToast } from "./ui";
import { formatDateTime, timeAgo } from "../format";
import { pushSnippets } from "./pushSnippets";
import "./uptime.css";

export function PushUrlPanel({ pluginId, pluginName }: { pluginId: number; pluginName: string }) {
  const [asked, setAsked] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const toast = useToast();
  const token = usePushToken(pluginId, asked);
  const rotate = useRotatePushToken(pluginId, {
    onSuccess: () => {
      setConfirm(false);
      toast("New push URL made. Update the jobs that call the old one.");
    },
  });
  const url = token.data ? `${window.location.origin}${token.data.url_path}` : "";
  return (
    <section className="card push-panel" aria-label="Push URL">
      <p className="muted small">
        A job reports in by calling this URL (<code>GET</code> or <code>POST</code>); <code>?status=down&amp;msg=…</code> reports a failure. Anyone holding it can report
        for this plugin: keep it secret.
      </p>
      {!asked ? (
        <button type="button" className="btn" onClick={() => setAsked(true)}>
          Show push URL
        </button>
      ) : token.isPending ? (
        <Spinner label="Loading the push URL…" />
      ) : token.isError ? (
        <ErrorState title="Could not load the push URL" error={token.error} onRetry={() => token.refetch()} />
      ) : (
        <>
          <CopyField label="Push URL" text={url} />
          {pushSnippets(url, pluginName).map((s) => (
            <CopyField key={s.label} label={s.label} text={s.text} />
          ))}
          <div className="push-meta">
            <span className="muted small">
              {token.data.push_count} call{token.data.push_count === 1 ? "" : "s"} · last {timeAgo(token.data.last_push_at)}
              {token.data.last_status ? ` (${token.data.last_status})` : ""} · made {formatDateTime(token.data.rotated_at)}
            </span>
            <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setConfirm(true)}>
              Rotate
            </button>
          </div>
        </>
      )}
      {confirm ? (
        <ConfirmDialog
          title={`Rotate the push URL of “${pluginName}”?`}
          message="A new URL is made and the current one stops working at once: every job that calls it must be updated."
          confirmLabel="Rotate URL"
          danger
          busy={rotate.isPending}
          error={rotate.error}
          onConfirm={() => rotate.mutate()}
          onCancel={() => setConfirm(false)}
        />
      ) : null}
    </section>
  );
}
