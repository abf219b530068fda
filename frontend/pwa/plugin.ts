// Emits dist/sw.js from pwa/sw.js with this build's shell: index.html, every bundle under assets/
// and the icons. Its VERSION is a hash of them, so a new build is a new worker (browsers compare
// sw.js byte for byte) that replaces the previous shell cache.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Plugin } from "vite";

/** public/ files the installed app needs offline (the manifest and its icons). */
export const PUBLIC_SHELL = [
  "/manifest.webmanifest",
  "/favicon.svg",
  "/icon-maskable.svg",
  "/icon-192.png",
  "/icon-512.png",
  "/icon-maskable-512.png",
  "/apple-touch-icon.png",
];

export function serviceWorker(): Plugin {
  const template = readFileSync(new URL("./sw.js", import.meta.url), "utf8");
  return {
    name: "unity-service-worker",
    apply: "build",
    generateBundle(_options, bundle) {
      const built = Object.keys(bundle).filter((f) => f.startsWith("assets/")).sort();
      const shell = ["/index.html", ...built.map((f) => `/${f}`), ...PUBLIC_SHELL];
      const hash = createHash("sha256").update(template).update(JSON.stringify(shell));
      const index = bundle["index.html"];
      if (index?.type === "asset") hash.update(index.source);
      const source = template
        .replace('"__VERSION__"', JSON.stringify(hash.digest("hex").slice(0, 16)))
        .replace("__SHELL__", JSON.stringify(shell));
      this.emitFile({ type: "asset", fileName: "sw.js", source });
    },
  };
}
