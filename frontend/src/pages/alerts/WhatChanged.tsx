// The incident page's "What changed" card: the incident's metric over ±15 minutes of its start,
// with the events and configuration changes of that window on the same time axis below it.
import type { IncidentDetail } from "../../api/alerts";
import { useIncidentChanges, useWindowSeries } from "../../api/audit";
import { TimeChart } from "../../components/TimeChart";
import { ErrorState, Spinner } from "../../components/ui";
import { ChangeTimeline, timelineItems } from "./ChangeTimeline";

export function WhatChangedSection({ incident, unit }: { incident: IncidentDetail; unit: string }) {
  const changes = useIncidentChanges(incident.id);
  const window = changes.data ? ([changes.data.start, changes.data.end] as const) : null;
  const seriesId = incident.series_id;
  const chart = useWindowSeries(seriesId, window, incident.id);
  return (
    <section className="card" aria-labelledby="changes-title">
      <h2 id="changes-title">What changed</h2>
      <p className="muted small">Events plugins saw and configuration changes from 15 minutes before to 15 minutes after the condition became true.</p>
      {changes.isPending ? (
        <Spinner label="Loading what changed…" />
      ) : changes.isError ? (
        <ErrorState title="Could not load what changed" error={changes.error} onRetry={() => changes.refetch()} />
      ) : (
        <>
          {seriesId !== null && chart.data ? (
            <TimeChart
              series={chart.data.series}
              unit={unit}
              liveWindowSec={null}
              height={160}
              title={incident.metric ?? "metric"}
              window={[Date.parse(changes.data.start) / 1000, Date.parse(changes.data.end) / 1000]}
            />
          ) : null}
          <ChangeTimeline
            start={changes.data.start}
            end={changes.data.end}
            startedAt={changes.data.started_at}
            items={timelineItems(changes.data.events, changes.data.audit, changes.data.plugin_id)}
          />
        </>
      )}
    </section>
  );
}
