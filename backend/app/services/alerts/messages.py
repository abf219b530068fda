"""The words of alerts: an incident's one-line summary and the title and body of its notices."""

from __future__ import annotations

from app.models import AlertIncident


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def summary(incident: AlertIncident) -> str:
    where = incident.plugin_name or (f"plugin {incident.plugin_id}" if incident.plugin_id else "")
    rule = incident.rule or {}
    if incident.kind == "health":
        return f"{where} is down (for at least {_duration(rule.get('for_seconds', 0))})"
    return (
        f"{incident.metric}{_labels_text(incident.labels)} on {where} is {_fmt(incident.value)} "
        f"({rule.get('op')} {_fmt(rule.get('threshold'))})"
    )


def message(incident: AlertIncident, kind: str) -> tuple[str, str, str]:
    """(title, body, Apprise notify type) for a firing or resolved notice."""
    if kind == "firing":
        title = f"[FIRING] {incident.rule_name}: {incident.plugin_name or 'Unity'}"
        lines = [
            incident.summary,
            f"Severity: {incident.severity}",
            f"Since: {incident.fired_at:%Y-%m-%d %H:%M:%S} UTC",
        ]
        if incident.silenced:
            lines.append("It started during a silence that has now ended.")
        notify_type = (
            "failure"
            if incident.severity == "critical"
            else ("warning" if incident.severity == "warning" else "info")
        )
    else:
        title = f"[RESOLVED] {incident.rule_name}: {incident.plugin_name or 'Unity'}"
        lasted = (incident.resolved_at or incident.fired_at) - incident.fired_at
        lines = [
            incident.summary,
            f"Resolved: {incident.resolved_reason}",
            f"Value now: {_fmt(incident.resolved_value)}",
            f"Fired for {_duration(lasted.total_seconds())}",
        ]
        notify_type = "success"
    return title, "\n".join(lines), notify_type
