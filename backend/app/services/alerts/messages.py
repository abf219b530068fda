"""The words of alerts: an incident's one-line summary and the title and body of its notices."""

from __future__ import annotations

from app.models import AlertIncident

# A notice lists at most this many dependents by name, and counts the rest.
NAMED_DEPENDENTS = 50


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _labels_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def duration_text(seconds: float) -> str:
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
        return f"{where} is down (for at least {duration_text(rule.get('for_seconds', 0))})"
    return (
        f"{incident.metric}{_labels_text(incident.labels)} on {where} is {_fmt(incident.value)} "
        f"({rule.get('op')} {_fmt(rule.get('threshold'))})"
    )


def blast_radius(names: list[str]) -> str:
    """ "3 checks depend on it: a, b, c" (a long list is cut, with the rest counted)."""
    shown = ", ".join(names[:NAMED_DEPENDENTS])
    more = len(names) - NAMED_DEPENDENTS
    tail = f" and {more} more" if more > 0 else ""
    noun = "check depends" if len(names) == 1 else "checks depend"
    return f"{len(names)} {noun} on it: {shown}{tail}"


def message(
    incident: AlertIncident, kind: str, behind: list[str] | None = None
) -> tuple[str, str, str]:
    """(title, body, Apprise notify type) for a firing or resolved notice.

    `behind` names the plugins that depend on the incident's plugin (its blast radius)."""
    if kind in ("firing", "repeat"):
        tag = "FIRING" if kind == "firing" else "STILL FIRING"
        title = f"[{tag}] {incident.rule_name}: {incident.plugin_name or 'Unity'}"
        if behind:
            title += f" ({len(behind)} {'check' if len(behind) == 1 else 'checks'} affected)"
        lines = [
            incident.summary,
            f"Severity: {incident.severity}",
            f"Since: {incident.fired_at:%Y-%m-%d %H:%M:%S} UTC",
        ]
        if incident.silenced:
            lines.append("It started during a silence that has now ended.")
        if incident.suppressed_by:
            lines.append(f"Held while {incident.suppressed_by} was down; it is back, this is not.")
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
            f"Fired for {duration_text(lasted.total_seconds())}",
        ]
        notify_type = "success"
    if behind:
        lines.append(
            ("Affected: " if kind == "firing" else "Resolved with it: ") + blast_radius(behind)
        )
    return title, "\n".join(lines), notify_type
