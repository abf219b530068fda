// The rule list with live pending/firing counts, and delete with confirmation.
import { useState } from "react";
import { useDeleteRule, useRules, type Rule } from "../../api/alerts";
import { useChannels } from "../../api/channels";
import { usePlugins } from "../../api/plugins";
import type { User } from "../../api/session";
import { Link } from "../../router";
import { EmptyState, QueryState, Table, useToast } from "../../components/ui";
import { formatQuantity, humanSeconds, labelText } from "../../format";
import { useMetricUnits } from "../../api/metrics";
import { AdminNote, Pill, SeverityBadge, pluginName } from "./common";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { managedBy, useManaged } from "../../api/config";

export function ruleCondition(r: Pick<Rule, "kind" | "metric" | "labels" | "op" | "threshold" | "for_seconds">, unit = ""): string {
  const wait = r.for_seconds ? ` for ${humanSeconds(r.for_seconds)}` : "";
  if (r.kind === "health") return `down${wait}`;
  const labels = Object.keys(r.labels ?? {}).length ? `{${labelText(r.labels)}}` : "";
  return `${r.metric ?? "?"}${labels} ${r.op} ${formatQuantity(r.threshold, unit)}${wait}`;
}

export function RulesPage({ user }: { user: User }) {
  const rules = useRules();
  const plugins = usePlugins();
  const channels = useChannels();
  const units = useMetricUnits();
  const toast = useToast();
  const [doomed, setDoomed] = useState<Rule | null>(null);
  const isAdmin = user.role === "admin";
  const managed = useManaged();
  const del = useDeleteRule({
    onSuccess: () => {
      setDoomed(null);
      toast("Rule deleted. Its incidents stay in the history.");
    },
  });
  const chName = new Map((channels.data ?? []).map((c) => [c.id, c.name]));

  return (
    <div className="stack">
      <div className="section-head tight">
        <p className="muted">Rules watch a metric or a plugin’s health; counts update every 15 s.</p>
        {isAdmin ? (
          <Link to="/alerts/rules/new" className="btn btn-primary">
            + Add rule
          </Link>
        ) : null}
      </div>
      {!isAdmin ? <AdminNote what="rules" /> : null}
      <QueryState query={rules} loading="Loading rules…" failed="Could not load rules">
        {(data) =>
          data.length === 0 ? (
            <EmptyState
              title="No rules yet"
              action={
                isAdmin ? (
                  <Link to="/alerts/rules/new" className="btn btn-primary">
                    Add a rule
                  </Link>
                ) : undefined
              }
            >
              Add one to get notified when a plugin goes down or a value such as disk usage crosses a threshold.
            </EmptyState>
          ) : (
            <section className="card">
              <Table caption="Alert rules" columns={["Rule", "Condition", "Severity", "Now", "Notifies"]} actions={isAdmin} className="rules-table">
                {data.map((r) => (
                  <tr key={r.id} data-rule={r.id} className={r.enabled ? undefined : "row-muted"}>
                    <td>
                      <strong>{r.name}</strong>
                      <div className="muted small">
                        {pluginName(plugins.data, r.plugin_id)}
                        {r.enabled ? "" : " · disabled"}
                        {managedBy(managed.data, "alert_rules", r.name) ? ` · managed by ${managed.data?.file}` : ""}
                      </div>
                    </td>
                    <td>
                      <code className="condition">{ruleCondition(r, units.get(r.metric ?? ""))}</code>
                    </td>
                    <td>
                      <SeverityBadge severity={r.severity} />
                    </td>
                    <td>
                      <div className="pills" data-testid="rule-counts">
                        {r.firing ? <Pill kind="firing">{r.firing} firing</Pill> : null}
                        {r.pending ? <Pill kind="pending">{r.pending} pending</Pill> : null}
                        {!r.firing && !r.pending ? <span className="muted small">{r.enabled ? "OK" : "—"}</span> : null}
                      </div>
                    </td>
                    <td className="small">{r.channel_ids.length ? r.channel_ids.map((id) => chName.get(id) ?? `#${id}`).join(", ") : <span className="muted">nobody</span>}</td>
                    {isAdmin ? (
                      <td>
                        {managedBy(managed.data, "alert_rules", r.name) ? (
                          <span className="muted small">Edit it in {managed.data?.file}</span>
                        ) : (
                          <div className="row-actions">
                            <Link to={`/alerts/rules/${r.id}/edit`} className="btn btn-sm" aria-label={`Edit ${r.name}`}>
                              Edit
                            </Link>
                            <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDoomed(r)} aria-label={`Delete ${r.name}`}>
                              Delete
                            </button>
                          </div>
                        )}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </Table>
            </section>
          )}
      </QueryState>
      {doomed ? (
        <ConfirmDelete
          id={doomed.id}
          deletion={del}
          title={`Delete “${doomed.name}”?`}
          message="Alerts it has firing resolve on the next evaluation. Its incidents stay in the history."
          confirmLabel="Delete rule"
          onCancel={() => setDoomed(null)}
        />
      ) : null}
    </div>
  );
}
