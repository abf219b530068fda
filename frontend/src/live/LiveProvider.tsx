// Owns the app's one LiveClient and LiveStore, feeds WebSocket events into the store and the
// TanStack Query cache, and exposes the connection status to the header indicator.
import { createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { LiveClient, liveUrl, type LiveStatus } from "./LiveClient";
import { LiveStore } from "./store";
import { alertKeys } from "../api/alerts";
import { metricKeys, type Series } from "../api/metrics";
import { pluginKeys, type PluginHealth } from "../api/plugins";

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
  const [state, setState] = useState<LiveState>(() => ({ status: "idle", retryInMs: null, since: Date.now() }));
  // Read only by retryNow(), never while rendering.
  const client = useRef<LiveClient | null>(null);

  useEffect(() => {
    if (!token) return;
    const c = new LiveClient({
      url: () => liveUrl(),
      onStatus: (status, info) => setState({ status, retryInMs: info.retryInMs, since: Date.now() }),
      onReconnect: () => {
        // Samples sent while we were away are missing from charts: refetch what is visible.
        void qc.invalidateQueries({ queryKey: metricKeys.all });
        void qc.invalidateQueries({ queryKey: pluginKeys.all });
      },
      onEvent: (ev) => {
        const id = ev.plugin_id;
        if (ev.type === "metrics") {
          const known = qc.getQueryData<Series[]>(metricKeys.series(id));
          store.ingestMetrics(id, ev.ts, ev.samples);
          if (known && ev.samples.some((s) => !known.some((k) => k.id === s.series_id))) {
            void qc.invalidateQueries({ queryKey: metricKeys.series(id) });
          }
        } else if (ev.type === "run") {
          store.ingestRun(id, ev.run);
          void qc.invalidateQueries({ queryKey: pluginKeys.runs(id) });
        } else {
          store.ingestHealth(id, ev.health);
          qc.setQueryData<PluginHealth>(pluginKeys.health(id), (old) => ({ ...old, ...ev.health }));
          // Health changes are rare and may fire or resolve a health alert: refresh the badge.
          void qc.invalidateQueries({ queryKey: alertKeys.firingCount() });
        }
      },
    });
    client.current = c;
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
      client.current = null;
    };
  }, [token, qc, store]);

  const value = useMemo(() => ({ store, state, retryNow: () => client.current?.retryNow() }), [store, state]);
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
