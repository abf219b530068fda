// Owns the app's one LiveClient and LiveStore, feeds WebSocket events into the store and the
// TanStack Query cache, and exposes the connection status to the header indicator.
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { LiveClient, liveUrl, type LiveStatus } from "./LiveClient";
import { LiveStore } from "./store";
import type { HealthEvent, MetricsEvent, PluginHealth, PluginRun, RunEvent } from "../api/types";
import { qk } from "../api/queries";

interface LiveState {
  status: LiveStatus;
  retryInMs: number | null;
  since: number;
}

interface LiveContextValue {
  store: LiveStore;
  state: LiveState;
  retryNow: () => void;
}

const LiveContext = createContext<LiveContextValue | null>(null);

export function LiveProvider({ token, children }: { token: string | null; children: ReactNode }) {
  const qc = useQueryClient();
  const store = useMemo(() => new LiveStore(), []);
  const [state, setState] = useState<LiveState>({ status: "idle", retryInMs: null, since: Date.now() });
  const [client, setClient] = useState<LiveClient | null>(null);

  useEffect(() => {
    if (!token) return;
    const c = new LiveClient({
      url: () => liveUrl(token),
      onStatus: (status, info) => setState({ status, retryInMs: info.retryInMs, since: Date.now() }),
      onReconnect: () => {
        // Samples sent while we were away are missing from charts: refetch what is visible.
        void qc.invalidateQueries({ queryKey: ["metrics"] });
        void qc.invalidateQueries({ queryKey: ["health"] });
        void qc.invalidateQueries({ queryKey: ["runs"] });
      },
      onMessage: (raw) => {
        const msg = raw as { type?: string; plugin_id?: number };
        if (typeof msg?.plugin_id !== "number") return;
        const id = msg.plugin_id;
        if (msg.type === "metrics") {
          const m = raw as MetricsEvent;
          const known = qc.getQueryData<{ id: number }[]>(qk.series(id));
          store.ingestMetrics(id, m.ts, Array.isArray(m.samples) ? m.samples : []);
          if (known && m.samples?.some((s) => !known.some((k) => k.id === s.series_id))) {
            void qc.invalidateQueries({ queryKey: qk.series(id) });
          }
        } else if (msg.type === "run") {
          const r = raw as RunEvent;
          const run = (r.run ?? { ...r, id: (r as unknown as { run_id?: number }).run_id ?? r["id"] }) as PluginRun;
          store.ingestRun(id, run);
          void qc.invalidateQueries({ queryKey: qk.runsPrefix(id) });
        } else if (msg.type === "health") {
          const h = raw as HealthEvent;
          const health = (h.health ?? { ...h }) as PluginHealth;
          if (health.status) {
            store.ingestHealth(id, health);
            qc.setQueryData<PluginHealth>(qk.health(id), (old) => ({ ...(old ?? {}), ...health }));
            // Health changes are rare and may fire or resolve a health alert: refresh the badge.
            void qc.invalidateQueries({ queryKey: qk.firingCount });
          }
        }
      },
    });
    setClient(c);
    c.start();
    const wake = () => c.retryNow();
    const onVisible = () => document.visibilityState === "visible" && wake();
    window.addEventListener("online", wake);
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.removeEventListener("online", wake);
      document.removeEventListener("visibilitychange", onVisible);
      c.stop();
      store.clear();
      setClient(null);
    };
  }, [token, qc, store]);

  const value = useMemo(
    () => ({ store, state, retryNow: () => client?.retryNow() }),
    [store, state, client],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveContextValue {
  const ctx = useContext(LiveContext);
  if (!ctx) throw new Error("useLive outside LiveProvider");
  return ctx;
}

/** Re-renders the caller whenever live data for this plugin arrives. */
export function usePluginLiveVersion(pluginId: number): number {
  const { store } = useLive();
  return useSyncExternalStore(
    (cb) => store.onPlugin(pluginId, cb),
    () => store.version(pluginId),
  );
}
