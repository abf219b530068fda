import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { vi } from "vitest";
import { ToastProvider } from "../components/ui";
import { LiveProvider } from "../live/LiveProvider";
import { FakeWebSocket } from "./fakes";

/** Renders UI the way the app does: query client, toasts and a live connection (fake socket). */
export function renderApp(ui: ReactNode, { token = "test-token" }: { token?: string | null } = {}) {
  FakeWebSocket.reset();
  vi.stubGlobal("WebSocket", FakeWebSocket);
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const utils = render(
    <QueryClientProvider client={qc}>
      <ToastProvider>
        <LiveProvider token={token}>{ui}</LiveProvider>
      </ToastProvider>
    </QueryClientProvider>,
  );
  return { ...utils, qc };
}
