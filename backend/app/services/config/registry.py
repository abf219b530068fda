"""`SECTIONS`: every kind of object configuration as code covers, in the order they are created.

To cover another kind, write a `Section` subclass (see
sections.py) in a module of its own and add an instance here, after the kinds it names (a
kind naming plugins comes after PluginsSection). Removal runs in reverse order. Export, apply,
the diff, --prune, the JSON Schema and the CLI all read this list.
"""

from __future__ import annotations

from app.services.config.maintenance import MaintenanceSection
from app.services.config.objects import (
    ChannelsSection,
    PluginsSection,
    RulesSection,
)
from app.services.config.sections import Section
from app.services.config.silences import SilencesSection
from app.services.config.status_pages import StatusPagesSection

SECTIONS: list[Section] = [
    PluginsSection(),
    ChannelsSection(),
    RulesSection(),
    SilencesSection(),
    MaintenanceSection(),
    StatusPagesSection(),
]
