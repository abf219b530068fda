"""The `snmp` plugin's settings (its form) and helpers turning SNMP values into numbers."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.plugins.base import PluginConfig, SecretField
from app.plugins.builtin._common import HostName, TimeoutField

MAX_INTERFACES = 256
_OID = re.compile(r"^\.?[0-2](\.\d{1,10}){1,127}$")
_METRIC = re.compile(r"^[a-z_][a-z0-9_]{0,99}$")
_UNIT = re.compile(r"^[A-Za-z0-9 /%._-]{0,20}$")


class SnmpOid(BaseModel):
    """One extra value to read, e.g. a temperature or a PoE budget."""

    model_config = ConfigDict(extra="forbid")

    oid: str = Field(
        ...,
        title="OID",
        description="Numeric OID of a single value (not a table), e.g. 1.3.6.1.4.1.2021.10.1.3.1.",
        examples=["1.3.6.1.4.1.2021.10.1.3.1"],
    )
    name: str = Field(
        ...,
        title="Metric name",
        description="Name to chart it under: lower case, digits and _, e.g. "
        "switch_temperature_celsius.",
        examples=["switch_temperature_celsius"],
    )
    unit: str = Field(
        "",
        title="Unit",
        description="Unit shown next to the value, e.g. celsius, percent, watts.",
        max_length=20,
    )
    scale: float = Field(
        1.0,
        title="Multiply by",
        description="Factor applied to the raw value, e.g. 0.1 for tenths of a degree.",
    )

    @field_validator("oid")
    @classmethod
    def _check_oid(cls, v: str) -> str:
        if not _OID.match(v.strip()):
            raise ValueError("must be a numeric OID like 1.3.6.1.2.1.1.3.0")
        return v.strip().lstrip(".")

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not _METRIC.match(v):
            raise ValueError("use lower case letters, digits and _ (e.g. ups_load_percent)")
        return v

    @field_validator("unit")
    @classmethod
    def _check_unit(cls, v: str) -> str:
        if not _UNIT.match(v):
            raise ValueError("keep the unit short and plain (e.g. celsius, percent)")
        return v


class SnmpConfig(PluginConfig):
    host: HostName = Field(
        ...,
        title="Device",
        description="Switch, router, access point or NAS to ask, by name or IP address.",
        examples=["switch.lan", "192.168.1.2"],
    )
    port: int = Field(161, title="Port", description="SNMP's UDP port.", ge=1, le=65535)
    version: Literal["2c", "3"] = Field(
        "2c",
        title="SNMP version",
        description="2c uses a community string; 3 uses a user with keys (safer).",
    )
    community: str | None = SecretField(
        None,
        title="Community",
        description="The SNMP v2c read community (often 'public' out of the box: change it).",
        max_length=200,
    )
    username: str | None = Field(
        None,
        title="v3 user",
        description="SNMPv3 user name (securityName).",
        max_length=100,
        examples=["unity"],
    )
    auth_protocol: Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] = Field(
        "SHA", title="v3 auth protocol", description="How the v3 user is authenticated."
    )
    auth_key: str | None = SecretField(
        None,
        title="v3 auth passphrase",
        description="At least 8 characters. Leave empty for a user without authentication.",
        max_length=200,
    )
    priv_protocol: Literal["AES", "AES192", "AES256", "DES"] = Field(
        "AES", title="v3 privacy protocol", description="How v3 traffic is encrypted."
    )
    priv_key: str | None = SecretField(
        None,
        title="v3 privacy passphrase",
        description="At least 8 characters. Leave empty to send unencrypted (authNoPriv).",
        max_length=200,
    )
    interfaces: list[str] = Field(
        [],
        title="Interfaces",
        description="Only these interfaces (by name, e.g. eth0 or Gi0/1). Empty: all of them.",
        max_length=MAX_INTERFACES,
    )
    oids: list[SnmpOid] = Field(
        [],
        title="Extra values",
        description="More values to read, each with a numeric OID, a metric name and a unit.",
        max_length=50,
    )
    timeout_seconds: float = TimeoutField(
        3.0, 30, "Wait this long for each answer before retrying."
    )
    retries: int = Field(
        1, title="Retries", description="Requests resent after a timeout.", ge=0, le=5
    )

    @model_validator(mode="after")
    def _credentials(self) -> SnmpConfig:
        if self.version == "2c" and not self.community:
            raise ValueError("SNMP v2c needs a community")
        if self.version == "3":
            if not self.username:
                raise ValueError("SNMP v3 needs a user name")
            if self.priv_key and not self.auth_key:
                raise ValueError("an SNMPv3 privacy passphrase needs an auth passphrase too")
            for key in (self.auth_key, self.priv_key):
                if key is not None and len(key) < 8:
                    raise ValueError("SNMPv3 passphrases must be at least 8 characters")
        names = [o.name for o in self.oids]
        if len(set(names)) != len(names):
            raise ValueError("each extra value needs its own metric name")
        return self


def is_exception(value: Any) -> bool:
    return type(value).__name__ in ("NoSuchObject", "NoSuchInstance", "EndOfMibView")


def to_number(value: Any) -> float | None:
    if value is None or is_exception(value):
        return None
    try:
        return float(int(value))
    except (TypeError, ValueError):
        pass
    try:
        return float(to_text(value))
    except ValueError:
        return None


def to_text(value: Any) -> str:
    if value is None:
        return ""
    try:
        return bytes(value).decode("utf-8", "replace").strip("\x00 ")
    except (TypeError, ValueError):
        return str(value).strip()


def index_key(index: str) -> tuple[int, ...]:
    return tuple(int(p) for p in index.split(".") if p.isdigit())
