"""The `nut` plugin: a UPS's status, charge, runtime, load and voltages from NUT's upsd."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from pydantic import Field, field_validator, model_validator

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample, SecretField
from app.plugins.builtin._common import HostName, TimeoutField, describe_exc, target_down, up_sample

# upsd variable -> (metric name, unit). Only the variables the UPS reports are sent.
VARIABLES = {
    "battery.charge": ("ups_battery_charge_percent", "percent"),
    "battery.runtime": ("ups_battery_runtime_seconds", "seconds"),
    "battery.voltage": ("ups_battery_voltage_volts", "volts"),
    "ups.load": ("ups_load_percent", "percent"),
    "ups.realpower": ("ups_real_power_watts", "watts"),
    "input.voltage": ("ups_input_voltage_volts", "volts"),
    "input.frequency": ("ups_input_frequency_hertz", "hertz"),
    "output.voltage": ("ups_output_voltage_volts", "volts"),
    "ups.temperature": ("ups_temperature_celsius", "celsius"),
}
MAX_LIST_LINES = 2000  # a UPS has a few hundred variables at most; more is not upsd
_UPS_NAME = r"^[A-Za-z0-9_.-]{1,64}$"


class NutConfig(PluginConfig):
    host: HostName = Field(
        "127.0.0.1",
        title="upsd host",
        description="The machine running NUT's upsd (the one the UPS is plugged into).",
        examples=["nas.lan", "192.168.1.5"],
    )
    port: int = Field(3493, title="Port", description="upsd's TCP port.", ge=1, le=65535)
    ups: str | None = Field(
        None,
        title="UPS name",
        description="The UPS's name in ups.conf (e.g. the [ups] section name). "
        "Empty: the first UPS upsd knows.",
        examples=["ups"],
        pattern=_UPS_NAME,
    )
    username: str | None = Field(
        None,
        title="User",
        description="A user from upsd.users. Optional: reading values needs no login, "
        "but with one set Unity checks the credentials on every run.",
        max_length=100,
        pattern=r"^[^\s\"]+$",
        examples=["monitor"],
    )
    password: str | None = SecretField(
        None, title="Password", description="The user's password in upsd.users.", max_length=200
    )
    on_battery_is_failure: bool = Field(
        True,
        title="Running on battery is a problem",
        description="When the UPS runs on battery, mark the run failed so the plugin "
        "turns degraded and alerts can fire. The measurements are kept either way.",
    )
    timeout_seconds: float = TimeoutField(5.0, 60, "upsd must answer within this time.")

    @field_validator("password")
    @classmethod
    def _one_line(cls, v: str | None) -> str | None:
        if v is not None and ("\n" in v or "\r" in v):
            raise ValueError("must be a single line")
        return v

    @model_validator(mode="after")
    def _login_pair(self) -> NutConfig:
        if bool(self.username) != bool(self.password):
            raise ValueError("set both username and password, or neither")
        return self


class NutProtocolError(Exception):
    """upsd answered `ERR <code>`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def parse_status(status: str) -> dict[str, float]:
    """The alert-ready flags of `ups.status` (e.g. "OB LB", "OL CHRG")."""
    flags = set(status.split())
    return {
        "ups_online": 1.0 if "OL" in flags else 0.0,
        "ups_on_battery": 1.0 if "OB" in flags else 0.0,
        "ups_low_battery": 1.0 if "LB" in flags else 0.0,
        "ups_replace_battery": 1.0 if "RB" in flags else 0.0,
        "ups_overloaded": 1.0 if "OVER" in flags else 0.0,
    }


class _Session:
    """One line-based conversation with upsd (requests and replies are single lines)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def line(self) -> str:
        raw = await self.reader.readline()
        if not raw:
            raise ConnectionResetError("upsd closed the connection")
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if text.startswith("ERR "):
            raise NutProtocolError(text[4:].split()[0] if text[4:].split() else "UNKNOWN")
        return text

    async def command(self, text: str) -> str:
        self.writer.write(text.encode() + b"\n")
        await self.writer.drain()
        return await self.line()

    async def listing(self, what: str) -> list[str]:
        """`LIST <what>`: the lines between BEGIN and END."""
        first = await self.command(f"LIST {what}")
        if first != f"BEGIN LIST {what}":
            raise ValueError(f"expected 'BEGIN LIST {what}', got {first[:80]!r}")
        lines: list[str] = []
        while (text := await self.line()) != f"END LIST {what}":
            lines.append(text)
            if len(lines) > MAX_LIST_LINES:
                raise ValueError(f"LIST {what} does not end")
        return lines


class NutPlugin(Plugin[NutConfig]):
    type = "nut"
    name = "UPS (NUT)"
    description = (
        "Status, battery charge, runtime, load and voltages of a UPS served by "
        "Network UPS Tools (upsd), with on-battery and low-battery flags for alerts."
    )
    category = "system"
    Config = NutConfig
    default_interval_seconds = 30
    default_timeout_seconds = 20

    async def collect_data(self) -> list[Sample]:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(cfg.host, cfg.port), cfg.timeout_seconds
            )
        except TimeoutError as exc:
            reason = (
                f"upsd at {where} did not accept within {cfg.timeout_seconds:g} s: check that "
                f"the host is up and that no firewall drops port {cfg.port}"
            )
            raise target_down(self, reason, [up_sample(False)]) from exc
        except socket.gaierror as exc:
            reason = (
                f"cannot resolve {cfg.host}: {describe_exc(exc)}; check the host name, or use "
                "the UPS server's IP address"
            )
            raise target_down(self, reason, [up_sample(False)]) from exc
        except ConnectionRefusedError as exc:
            reason = (
                f"upsd at {where} refused the connection: is upsd running, and does "
                f"upsd.conf have a LISTEN line for this address (e.g. LISTEN 0.0.0.0 {cfg.port})?"
            )
            raise target_down(self, reason, [up_sample(False)]) from exc
        except OSError as exc:
            reason = (
                f"upsd at {where} is unreachable: {describe_exc(exc)}; check the address and "
                "that this machine has a route to it"
            )
            raise target_down(self, reason, [up_sample(False)]) from exc
        try:
            name, variables = await asyncio.wait_for(
                self._talk(_Session(reader, writer)), cfg.timeout_seconds
            )
        except TimeoutError as exc:
            raise target_down(
                self,
                f"upsd at {where} accepted but did not answer within {cfg.timeout_seconds:g} s: "
                f"check that port {cfg.port} is upsd's (usually 3493)",
                [up_sample(False)],
            ) from exc
        except (ConnectionError, OSError) as exc:
            raise target_down(
                self,
                f"upsd at {where} dropped the connection: {describe_exc(exc)}; upsd may be "
                "restarting or at its client limit (MAXCONN in upsd.conf): see upsd's log",
                [up_sample(False)],
            ) from exc
        except ValueError as exc:
            raise PluginError(
                f"{where} answered in an unexpected format ({describe_exc(exc)}); "
                f"is this NUT's upsd (usually port 3493)?"
            ) from exc
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return self._samples(name, variables)

    async def _talk(self, session: _Session) -> tuple[str, dict[str, str]]:
        cfg = self.config
        try:
            known = [_ups_name(line) for line in await session.listing("UPS")]
        except NutProtocolError as exc:
            raise PluginError(f"upsd refused to list its UPSes: {exc.code}") from exc
        if not known:
            raise PluginError(
                f"upsd at {cfg.host}:{cfg.port} serves no UPS: add one to ups.conf and "
                "start its driver (upsdrvctl start)"
            )
        name = cfg.ups or known[0]
        if cfg.username and cfg.password:
            await self._login(session, name)
        try:
            lines = await session.listing(f"VAR {name}")
        except NutProtocolError as exc:
            if exc.code == "UNKNOWN-UPS":
                raise PluginError(
                    f"upsd has no UPS named {name!r}; it knows: {', '.join(known)}. "
                    "Set the UPS name to one of these."
                ) from exc
            if exc.code in ("DATA-STALE", "DRIVER-NOT-CONNECTED"):
                raise PluginError(
                    f"upsd has no fresh data for {name!r} ({exc.code}): the UPS driver is not "
                    "running or lost the UPS; check the cable and `upsdrvctl start`"
                ) from exc
            raise PluginError(f"upsd refused LIST VAR {name}: {exc.code}") from exc
        variables: dict[str, str] = {}
        prefix = f"VAR {name} "
        for line in lines:
            if not line.startswith(prefix):
                raise ValueError(f"unexpected line {line[:80]!r}")
            key, _, value = line[len(prefix) :].partition(" ")
            variables[key] = _unquote(value)
        with contextlib.suppress(Exception):  # being polite; the answer is already in
            await asyncio.wait_for(session.command("LOGOUT"), 1)
        return name, variables

    async def _login(self, session: _Session, name: str) -> None:
        # USERNAME and PASSWORD are always accepted; LOGIN is where upsd checks them.
        # LOGIN counts Unity as an attached client until the LOGOUT a moment later.
        cfg = self.config
        try:
            await session.command(f"USERNAME {cfg.username}")
            await session.command(f"PASSWORD {_quote(cfg.password or '')}")
            await session.command(f"LOGIN {name}")
        except NutProtocolError as exc:
            if exc.code == "ACCESS-DENIED":
                raise PluginError(
                    f"upsd refused the login of {cfg.username!r}: check the password in "
                    f"upsd.users and that the user has an `upsmon secondary` line; "
                    "then reload upsd (upsd -c reload)"
                ) from exc
            if exc.code == "UNKNOWN-UPS":
                return  # reported with the list of known names by LIST VAR
            raise PluginError(
                f"upsd refused the login: {exc.code}; see upsd's log and the NUT network "
                "protocol's error list for what it means"
            ) from exc

    def _samples(self, name: str, variables: dict[str, str]) -> list[Sample]:
        labels = {"ups": name}
        samples = [up_sample(True, labels)]
        status = variables.get("ups.status", "")
        flags = parse_status(status)
        if status:  # a UPS that reports no status gets no flags rather than false zeros
            for metric, value in flags.items():
                samples.append(Sample(metric, value, "bool", labels))
        for var, (metric, unit) in VARIABLES.items():
            raw = variables.get(var)
            if raw is None:
                continue
            try:
                samples.append(Sample(metric, float(raw), unit, labels))
            except ValueError:
                continue  # some drivers report "unknown"; skip that value, keep the rest
        if self.config.on_battery_is_failure and flags["ups_on_battery"]:
            low = " and its battery is LOW" if flags["ups_low_battery"] else ""
            parts = []
            if charge := variables.get("battery.charge"):
                parts.append(f"charge {charge} %")
            if (runtime := _number(variables.get("battery.runtime"))) is not None:
                parts.append(f"about {int(runtime) // 60} min left")
            extra = ", ".join(parts)
            reason = f"UPS {name} is running on battery{low} (status {status})"
            raise target_down(self, f"{reason}: {extra}" if extra else reason, samples)
        return samples


def _ups_name(line: str) -> str:
    parts = line.split(" ", 2)
    if len(parts) < 2 or parts[0] != "UPS":
        raise ValueError(f"unexpected line {line[:80]!r}")
    return parts[1]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(text: str | None) -> float | None:
    try:
        return float(text or "")
    except ValueError:
        return None


PLUGIN = NutPlugin
