// Entry point of a public status page (status.html): only what a visitor needs — React, the
// query client and the page itself, not the signed-in app. nginx and the backend serve this
// shell at /status/<slug> and at / on a page's custom domain (named on the root element).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { PublicStatus } from "./pages/PublicStatus";
import { applyTheme } from "./theme";
import "./styles.css";

applyTheme();

const root = document.getElementById("root")!;
const fromPath = /^\/status\/([a-z0-9-]+)\/?$/.exec(window.location.pathname)?.[1];
const slug = fromPath ?? root.dataset.statusPage ?? "";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 10_000 } },
});

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <PublicStatus slug={slug} />
    </QueryClientProvider>
  </StrictMode>,
);
