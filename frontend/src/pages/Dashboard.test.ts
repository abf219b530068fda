import { describe, expect, it } from "vitest";
import { headlineValues, rankValues } from "./Dashboard";
import { KEY_METRICS, keyMetricsFirst } from "./keyMetrics";
import type { CurrentValue } from "../live/latestValues";
// Every metric name each pack plugin sends, checked against the plugins' code by
// backend/tests/plugins/test_card_metric_names.py.
import emitted from "./pluginMetricNames.json";

type Labels = Record<string, string>;
const values = (names: string[], labels: (name: string) => Labels = () => ({})): CurrentValue[] =>
  names.map((name, i) => ({ seriesId: i, name, unit: "", labels: labels(name), ts: 0, value: 1 }));
const card = (names: string[], type?: string, labels?: (name: string) => Labels) => headlineValues(rankValues(values(names, labels), type)).map((v) => v.name);
const all = emitted as unknown as Record<string, string[]>;
const without = (type: string, ...gone: (string | RegExp)[]) =>
  all[type].filter((n) => !gone.some((g) => (typeof g === "string" ? n === g : g.test(n))));

describe("a card's headline values", () => {
  it("lead with a UPS's status, charge and runtime", () => {
    expect(card(all.nut, "nut", () => ({ ups: "rack" }))).toEqual(["ups_on_battery", "ups_battery_charge_percent", "ups_battery_runtime_seconds"]);
  });

  it("lead with a disk's verdict and temperature, then wear", () => {
    const disk = () => ({ device: "/dev/sda", model: "WDC", serial: "X" });
    const sata = without("smart", /^disk_(endurance|available_spare|media|critical)/);
    const nvme = without("smart", /sectors$/);
    expect(card(sata, "smart", disk)).toEqual(["disk_healthy", "disk_temperature_celsius", "disk_reallocated_sectors"]);
    expect(card(nvme, "smart", disk)).toEqual(["disk_healthy", "disk_temperature_celsius", "disk_endurance_used_percent"]);
  });

  it("lead with a pool's or array's health", () => {
    const zfsOnly = all.storage_pools.filter((n) => n.startsWith("zfs_"));
    expect(card(zfsOnly, "storage_pools", () => ({ pool: "tank" }))).toEqual(["zfs_pool_healthy", "zfs_pool_capacity_percent", "zfs_pool_scrub_age_seconds"]);
    const mdRebuilding = all.storage_pools.filter((n) => n.startsWith("md_"));
    expect(card(mdRebuilding, "storage_pools")).toEqual(["md_array_healthy", "md_array_sync_percent", "md_array_disks_active"]);
    const btrfsOnly = all.storage_pools.filter((n) => n.startsWith("btrfs_"));
    expect(card(btrfsOnly, "storage_pools")).toEqual(["btrfs_device_corruption_errors", "btrfs_device_read_errors", "btrfs_device_write_errors"]);
    expect(card(all.storage_pools, "storage_pools").slice(0, 2)).toEqual(["zfs_pool_healthy", "md_array_healthy"]);
  });

  it("lead with a network device's traffic", () => {
    const iface = (n: string): Labels => (n.startsWith("interface_") ? { interface: "ether1" } : {});
    expect(card(all.snmp, "snmp", iface)).toEqual(["interface_receive_bytes_per_second", "interface_transmit_bytes_per_second", "interface_receive_errors_per_second"]);
    // The first run has no rates yet: link state and uptime instead.
    expect(card(without("snmp", /_per_second$/), "snmp", iface).slice(0, 2)).toEqual(["interface_up", "snmp_uptime_seconds"]);
  });

  it("lead with a hypervisor's nodes, CPU and running guests", () => {
    expect(card(all.proxmox, "proxmox")).toEqual(["proxmox_node_online", "proxmox_node_cpu_percent", "proxmox_guests_running"]);
  });

  it("lead with a database's connect time and load", () => {
    const primary = without("postgres", "postgres_replication_lag_seconds");
    expect(card(primary, "postgres")).toEqual(["postgres_connect_seconds", "postgres_connections_used_percent", "postgres_long_running_queries"]);
    const standby = without("postgres", "postgres_replicas", "postgres_replica_lag_seconds");
    expect(card(standby, "postgres")).toEqual(["postgres_connect_seconds", "postgres_connections_used_percent", "postgres_replication_lag_seconds"]);
    const standalone = without("mysql", /^mysql_replica_/);
    expect(card(standalone, "mysql")).toEqual(["mysql_connect_seconds", "mysql_threads_running", "mysql_slow_queries_total"]);
    expect(card(all.mysql, "mysql")).toEqual(["mysql_connect_seconds", "mysql_replica_lag_seconds", "mysql_threads_running"]);
    expect(card(all.redis, "redis", (n): Labels => (n.startsWith("redis_keys") ? { db: "db0" } : {}))).toEqual(["redis_connect_seconds", "redis_memory_used_bytes", "redis_connected_clients"]);
  });

  it("name only metrics the type really sends", () => {
    for (const [type, keys] of Object.entries(KEY_METRICS)) {
      for (const key of keys) expect(all[type], `${type}: ${key}`).toContain(key);
    }
  });

  it("show a host's CPU, memory and disk, not its busiest process", () => {
    expect(card(["process_cpu_percent", "disk_percent", "memory_percent", "cpu_percent", "process_memory_bytes"], "system")).toEqual(["cpu_percent", "memory_percent", "disk_percent"]);
  });

  it("keep a check's response time first", () => {
    expect(card(["http_status_code", "up", "http_response_time"], "http")[0]).toBe("http_response_time");
  });

  it("still rank a type it has no key list for by the generic hints", () => {
    expect(card(["ups_input_voltage_volts", "ups_battery_runtime_seconds", "ups_on_battery", "ups_battery_charge_percent"])).toEqual([
      "ups_on_battery",
      "ups_battery_charge_percent",
      "ups_battery_runtime_seconds",
    ]);
  });
});

describe("a plugin page's charts", () => {
  it("start with the type's key metrics, the rest by name", () => {
    const order = [...all.nut].sort((a, b) => keyMetricsFirst("nut", a, b));
    expect(order.slice(0, 4)).toEqual(KEY_METRICS.nut);
    expect(order.slice(4)).toEqual([...order.slice(4)].sort());
    expect(["b", "a"].sort((a, b) => keyMetricsFirst("http", a, b))).toEqual(["a", "b"]);
  });
});
