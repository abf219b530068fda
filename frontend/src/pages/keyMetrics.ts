// Which of a plugin type's metrics a person looks at first: the dashboard card shows them and
// the detail page charts them before the rest.

/** A plugin type's key values, in the order its card shows them: the type knows best what a
 * person looks at first (a UPS's status, charge and runtime; a disk's verdict and temperature).
 * Names the instance does not report are skipped; the generic hints order the rest. */
export const KEY_METRICS: Record<string, string[]> = {
  smart: ["disk_healthy", "disk_temperature_celsius", "disk_reallocated_sectors", "disk_endurance_used_percent"],
  nut: ["ups_on_battery", "ups_battery_charge_percent", "ups_battery_runtime_seconds", "ups_load_percent"],
  storage_pools: [
    "zfs_pool_healthy",
    "md_array_healthy",
    "zfs_pool_capacity_percent",
    "md_array_sync_percent",
    "zfs_pool_scrub_age_seconds",
    "md_array_disks_active",
    "btrfs_device_corruption_errors",
    "btrfs_device_read_errors",
    "btrfs_device_write_errors",
  ],
  snmp: ["interface_receive_bytes_per_second", "interface_transmit_bytes_per_second", "interface_receive_errors_per_second", "interface_up", "snmp_uptime_seconds"],
  proxmox: ["proxmox_node_online", "proxmox_node_cpu_percent", "proxmox_guests_running", "proxmox_storage_used_percent"],
  postgres: ["postgres_connect_seconds", "postgres_connections_used_percent", "postgres_replication_lag_seconds", "postgres_long_running_queries"],
  mysql: ["mysql_connect_seconds", "mysql_replica_lag_seconds", "mysql_threads_running", "mysql_slow_queries_total", "mysql_connections_used_percent"],
  redis: ["redis_connect_seconds", "redis_memory_used_bytes", "redis_connected_clients", "redis_master_link_up"],
};

/** Compares two metric names of one plugin type: its key metrics first, in their order, then by name. */
export function keyMetricsFirst(type: string, a: string, b: string): number {
  const keys = KEY_METRICS[type] ?? [];
  const rank = (n: string) => {
    const i = keys.indexOf(n);
    return i < 0 ? keys.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
