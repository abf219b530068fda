"""Shields-style SVG badges: a grey label on the left, a coloured message on the right."""

from __future__ import annotations

from html import escape

# Shields' palette, by what the message means.
GREEN, YELLOW, ORANGE, RED, BLUE, GREY = (
    "#4c1",
    "#dfb317",
    "#fe7d37",
    "#e05d44",
    "#007ec6",
    "#9f9f9f",
)
STATE_COLOURS = {
    "healthy": GREEN,
    "degraded": YELLOW,
    "down": RED,
    "maintenance": BLUE,
    "unknown": GREY,
}
STATE_WORDS = {"healthy": "up"}
# Approximate advance widths of 11 px Verdana (what shields measures text in), in px.
_NARROW = set("fijlrt.,:;!|'() ")
_WIDE = set("mwMW%@")


def text_width(text: str) -> float:
    return sum(
        3.9 if c in _NARROW else 9.9 if c in _WIDE else 7.6 if c.isupper() else 6.8 for c in text
    )


def render(label: str, message: str, colour: str) -> str:
    """One badge; texts are escaped, widths follow the text."""
    lw, mw = round(text_width(label)) + 10, round(text_width(message)) + 10
    total = lw + mw
    label_x, message_x = lw * 5, lw * 10 + mw * 5  # centres, in the 10x-scaled text space
    label_e, message_e = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label_e}: {message_e}"><title>{label_e}: {message_e}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110">'
        f'<text x="{label_x}" y="140" transform="scale(.1)">{label_e}</text>'
        f'<text x="{message_x}" y="140" transform="scale(.1)">{message_e}</text>'
        "</g></svg>"
    )


def status_badge(label: str, state: str) -> str:
    return render(label, STATE_WORDS.get(state, state), STATE_COLOURS.get(state, GREY))


def uptime_colour(percent: float | None) -> str:
    if percent is None:
        return GREY
    if percent >= 99.9:
        return GREEN
    if percent >= 99:
        return YELLOW
    return ORANGE if percent >= 95 else RED


def uptime_badge(label: str, percent: float | None) -> str:
    message = "no data" if percent is None else f"{_trim(percent)}%"
    return render(label, message, uptime_colour(percent))


def response_badge(label: str, ms: float | None) -> str:
    if ms is None:
        return render(label, "no data", GREY)
    message = f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"
    return render(label, message, GREEN if ms < 500 else YELLOW if ms < 2000 else RED)


def _trim(percent: float) -> str:
    """99.95 -> '99.95', 100.0 -> '100', 99.9 -> '99.9': two decimals at most, never rounded up
    to 100 while anything was down."""
    floored = int(percent * 100) / 100
    return f"{floored:.2f}".rstrip("0").rstrip(".")
