"""The `snmp` plugin: interface traffic, errors and link state of network gear, SNMP v2c or v3."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NoReturn

from app.plugins.base import Plugin, PluginError, Sample
from app.plugins.builtin._common import (
    RESOLVE_HINT,
    allowed_target,
    describe_exc,
    target_down,
    up_sample,
)
from app.plugins.builtin._snmp import (
    MAX_INTERFACES,
    SnmpConfig,
    index_key,
    is_exception,
    to_number,
    to_text,
)

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
# IF-MIB columns, indexed by ifIndex. The HC (64-bit) counters come from ifXTable.
IF_COLUMNS = {
    "descr": "1.3.6.1.2.1.2.2.1.2",
    "oper_status": "1.3.6.1.2.1.2.2.1.8",
    "in_errors": "1.3.6.1.2.1.2.2.1.14",
    "out_errors": "1.3.6.1.2.1.2.2.1.20",
    "name": "1.3.6.1.2.1.31.1.1.1.1",
    "hc_in_octets": "1.3.6.1.2.1.31.1.1.1.6",
    "hc_out_octets": "1.3.6.1.2.1.31.1.1.1.10",
}
# Agents without ifXTable (old or tiny ones) still have the 32-bit octet counters.
IF_COLUMNS_32 = {"in_octets": "1.3.6.1.2.1.2.2.1.10", "out_octets": "1.3.6.1.2.1.2.2.1.16"}
COUNTERS = {
    # counter -> (total metric, rate metric, rate unit)
    "in_octets": ("interface_receive_bytes_total", "interface_receive_bytes_per_second", "bytes/s"),
    "out_octets": (
        "interface_transmit_bytes_total",
        "interface_transmit_bytes_per_second",
        "bytes/s",
    ),
    "in_errors": (
        "interface_receive_errors_total",
        "interface_receive_errors_per_second",
        "errors/s",
    ),
    "out_errors": (
        "interface_transmit_errors_total",
        "interface_transmit_errors_per_second",
        "errors/s",
    ),
}
WRAP_32 = 2**32
MAX_ROWS = 4096


class SnmpFailure(Exception):
    """An answer that was an error; `kind` picks the sentence."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass
class _Reading:
    at: float
    uptime: float | None
    counters: dict[tuple[str, str], tuple[int, bool]]  # (interface, counter) -> (value, is_32bit)


class SnmpPlugin(Plugin[SnmpConfig]):
    type = "snmp"
    name = "Network device (SNMP)"
    description = (
        "Interface traffic, errors and link state (IF-MIB, 64-bit counters), uptime and any "
        "listed OIDs of a switch, router or access point, over SNMP v2c or v3."
    )
    category = "network"
    Config = SnmpConfig
    default_interval_seconds = 60
    requires = {"pysnmp": "pysnmp>=7.1"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._engine: Any = None
        self._prev: _Reading | None = None

    # --- pysnmp plumbing (imported on first use: the library is large) ----------------

    def _auth(self, snmp: Any) -> Any:
        cfg = self.config
        if cfg.version == "2c":
            return snmp.CommunityData(cfg.community, mpModel=1)
        auth_protocols = {
            "MD5": snmp.usmHMACMD5AuthProtocol,
            "SHA": snmp.usmHMACSHAAuthProtocol,
            "SHA224": snmp.usmHMAC128SHA224AuthProtocol,
            "SHA256": snmp.usmHMAC192SHA256AuthProtocol,
            "SHA384": snmp.usmHMAC256SHA384AuthProtocol,
            "SHA512": snmp.usmHMAC384SHA512AuthProtocol,
        }
        priv_protocols = {
            "AES": snmp.usmAesCfb128Protocol,
            "AES192": snmp.usmAesCfb192Protocol,
            "AES256": snmp.usmAesCfb256Protocol,
            "DES": snmp.usmDESPrivProtocol,
        }
        return snmp.UsmUserData(
            cfg.username,
            authKey=cfg.auth_key,
            privKey=cfg.priv_key,
            authProtocol=auth_protocols[cfg.auth_protocol]
            if cfg.auth_key
            else snmp.usmNoAuthProtocol,
            privProtocol=priv_protocols[cfg.priv_protocol]
            if cfg.priv_key
            else snmp.usmNoPrivProtocol,
        )

    @staticmethod
    def _check(snmp: Any, error_indication: Any, error_status: Any) -> None:
        if error_indication:
            name = type(error_indication).__name__
            raise SnmpFailure(name, str(error_indication))
        if error_status and int(error_status) != 0:
            raise SnmpFailure("errorStatus", str(error_status.prettyPrint()))

    async def _get(self, snmp: Any, session: tuple[Any, ...], oids: list[str]) -> list[Any]:
        engine, auth, target = session
        err_ind, err_status, _, var_binds = await snmp.get_cmd(
            engine,
            auth,
            target,
            snmp.ContextData(),
            *(snmp.ObjectType(snmp.ObjectIdentity(o)) for o in oids),
            lookupMib=False,
        )
        self._check(snmp, err_ind, err_status)
        return [value for _, value in var_binds]

    async def _walk(self, snmp: Any, session: tuple[Any, ...], column: str) -> dict[str, Any]:
        """ifIndex -> value for one table column."""
        engine, auth, target = session
        rows: dict[str, Any] = {}
        prefix = column + "."
        async for err_ind, err_status, _, var_binds in snmp.bulk_walk_cmd(
            engine,
            auth,
            target,
            snmp.ContextData(),
            0,
            25,
            snmp.ObjectType(snmp.ObjectIdentity(column)),
            lookupMib=False,
            lexicographicMode=False,
            maxRows=MAX_ROWS,
        ):
            self._check(snmp, err_ind, err_status)
            for oid, value in var_binds:
                text = str(oid)
                if text.startswith(prefix) and not is_exception(value):
                    rows[text[len(prefix) :]] = value
        return rows

    # --- collection ----------------------------------------------------------------------

    async def collect_data(self) -> list[Sample]:
        from pysnmp.hlapi.v3arch import asyncio as snmp  # type: ignore[import-untyped]

        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        if self._engine is None:
            self._engine = snmp.SnmpEngine()
        address = await allowed_target(self, cfg.host, cfg.port, cfg.timeout_seconds)
        try:
            target = await snmp.UdpTransportTarget.create(
                (address, cfg.port), timeout=cfg.timeout_seconds, retries=cfg.retries
            )
        except Exception as exc:  # pysnmp wraps resolver errors in its own PySnmpError
            raise target_down(
                self,
                f"cannot resolve {cfg.host}: {describe_exc(exc)}; {RESOLVE_HINT}",
                [up_sample(False)],
            ) from exc
        session = (self._engine, self._auth(snmp), target)
        try:
            (uptime_raw,) = await self._get(snmp, session, [SYS_UPTIME])
            columns = {key: await self._walk(snmp, session, oid) for key, oid in IF_COLUMNS.items()}
            if not columns["hc_in_octets"]:
                for key, oid in IF_COLUMNS_32.items():
                    columns[key] = await self._walk(snmp, session, oid)
            extra = await self._get(snmp, session, [o.oid for o in cfg.oids]) if cfg.oids else []
        except SnmpFailure as exc:
            self._fail(exc, where)
        now = time.monotonic()
        uptime = to_number(uptime_raw)
        samples = [up_sample(True)]
        if uptime is not None:
            samples.append(Sample("snmp_uptime_seconds", uptime / 100.0, "seconds"))
        interface_samples, missing = self._interfaces(columns, now, uptime)
        samples += interface_samples
        problems: list[str] = []
        if missing:
            problems.append(missing)
        if not columns["descr"] and not columns["name"] and not cfg.oids:
            # Every device has an interface; none seen means the view hides IF-MIB, and the
            # instance would measure nothing but uptime.
            problems.append(
                f"{cfg.host} shows this community or user no interfaces: check that the "
                "device's SNMP view includes IF-MIB (1.3.6.1.2.1.2 and 1.3.6.1.2.1.31)"
            )
        oid_problems: list[str] = []
        for spec, value in zip(cfg.oids, extra, strict=True):
            number = None if is_exception(value) else to_number(value)
            if number is None:
                what = "does not exist" if is_exception(value) else "is not a number"
                oid_problems.append(f"{spec.oid} ({spec.name}) {what} on {cfg.host}")
                continue
            samples.append(Sample(spec.name, number * spec.scale, spec.unit))
        if oid_problems:
            problems.append(
                "; ".join(oid_problems) + ": check the OID, and that the device's SNMP view "
                "lets this community or user read it"
            )
        if problems:
            raise target_down(self, "; ".join(problems), samples)
        return samples

    def _fail(self, exc: SnmpFailure, where: str) -> NoReturn:
        cfg = self.config
        user = cfg.username
        if exc.kind == "RequestTimedOut":
            hint = (
                "is SNMP enabled, is Unity's address allowed, and is the community right? "
                "(agents ignore a wrong community silently)"
                if cfg.version == "2c"
                else "is SNMP enabled and is Unity's address allowed?"
            )
            raise target_down(
                self,
                f"{where} did not answer SNMP within {cfg.timeout_seconds:g} s "
                f"({cfg.retries + 1} tries): {hint}",
                [up_sample(False)],
            )
        sentences = {
            "UnknownUserName": f"{where} does not know the SNMPv3 user {user!r}: check the "
            "user name (and that it was created on the device)",
            "WrongDigest": f"{where} refused the SNMPv3 login of {user!r}: check the auth "
            "passphrase and auth protocol",
            "AuthenticationFailure": f"{where} refused the SNMPv3 login of {user!r}: check "
            "the auth passphrase and auth protocol",
            "DecryptionError": f"{where} could not decrypt: check the SNMPv3 privacy "
            "passphrase and privacy protocol",
            "UnsupportedSecLevel": f"the SNMPv3 user {user!r} on {where} is not set up for "
            "this security level: set or clear the auth/privacy passphrases to match the "
            "device",
            "errorStatus": f"{where} refused the request ({exc}): the community or user "
            "may not read these objects (check the device's SNMP view)",
        }
        raise PluginError(sentences.get(exc.kind, f"SNMP request to {where} failed: {exc}"))

    def _interfaces(
        self, columns: dict[str, dict[str, Any]], now: float, uptime: float | None
    ) -> tuple[list[Sample], str | None]:
        """The interface samples, and a sentence naming configured interfaces not found."""
        names: dict[str, str] = {}
        for index in sorted(set(columns["descr"]) | set(columns["name"]), key=index_key):
            raw = columns["name"].get(index) or columns["descr"].get(index)
            name = to_text(raw) or f"if{index}"
            if name in names.values():
                name = f"{name}#{index}"
            names[index] = name
        missing = None
        if self.config.interfaces:
            wanted = set(self.config.interfaces)
            absent = sorted(wanted - set(names.values()))
            if absent:
                known = ", ".join(list(names.values())[:30]) or "none"
                host = self.config.host
                missing = f"{host} has no interface {', '.join(absent)} (it has: {known})"
            names = {i: n for i, n in names.items() if n in wanted}
        names = dict(list(names.items())[:MAX_INTERFACES])

        counters: dict[tuple[str, str], tuple[int, bool]] = {}
        samples: list[Sample] = []
        for index, name in names.items():
            labels = {"interface": name}
            status = to_number(columns["oper_status"].get(index))
            if status is not None:
                samples.append(Sample("interface_up", 1.0 if status == 1 else 0.0, "bool", labels))
            sources = {
                "in_octets": (columns.get("hc_in_octets", {}), columns.get("in_octets", {})),
                "out_octets": (columns.get("hc_out_octets", {}), columns.get("out_octets", {})),
                "in_errors": ({}, columns["in_errors"]),
                "out_errors": ({}, columns["out_errors"]),
            }
            for counter, (wide, narrow) in sources.items():
                raw = wide.get(index)
                is_32 = raw is None
                value = to_number(raw if raw is not None else narrow.get(index))
                if value is None:
                    continue
                total_name, _, _ = COUNTERS[counter]
                samples.append(
                    Sample(total_name, value, "bytes" if "octets" in counter else "count", labels)
                )
                counters[(name, counter)] = (int(value), is_32)
        samples += self._rates(_Reading(now, uptime, counters))
        return samples, missing

    def _rates(self, cur: _Reading) -> list[Sample]:
        prev, self._prev = self._prev, cur
        if prev is None:
            return []  # a rate needs two readings; the next run has it
        elapsed = cur.at - prev.at
        rebooted = cur.uptime is not None and prev.uptime is not None and cur.uptime < prev.uptime
        if elapsed <= 0 or rebooted:
            return []  # the device restarted: its counters did too
        samples = []
        for (name, counter), (value, is_32) in cur.counters.items():
            before = prev.counters.get((name, counter))
            if before is None:
                continue
            delta = value - before[0]
            if delta < 0:
                if not (is_32 and before[1]):
                    continue  # a 64-bit counter going back was reset, not wrapped
                delta += WRAP_32
            _, rate_name, unit = COUNTERS[counter]
            samples.append(Sample(rate_name, delta / elapsed, unit, {"interface": name}))
        return samples

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None


PLUGIN = SnmpPlugin
