/// <reference types="vitest/config" />
// Vite builds the SPA and, in development, proxies the API to a backend on :8000
// (override with VITE_BACKEND, e.g. http://backend:8000 inside the compose dev container).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { readFileSync } from "node:fs";
import { serviceWorker } from "./pwa/plugin.ts";
import { precompress } from "./scripts/precompress.mjs";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

const backend = process.env.VITE_BACKEND || "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), serviceWorker(), precompress()],
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  base: "/",
  server: {
    host: "0.0.0.0",
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/ws": { target: backend, ws: true, changeOrigin: false },
      "/health": { target: backend },
      "/docs": { target: backend },
      "/openapi.json": { target: backend },
    },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    // A public status page has its own small entry, so a visitor loads none of the app.
    rollupOptions: { input: { main: "index.html", status: "status.html" } },
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    css: false,
  },
});
