// Light/dark theme: follows the OS unless the user picks one; the choice lives in localStorage.
import { useSyncExternalStore } from "react";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "unity.theme";
const listeners = new Set<() => void>();

function mq(): MediaQueryList | null {
  return typeof window !== "undefined" && window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
}

export function getChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export function resolved(choice = getChoice()): "light" | "dark" {
  if (choice !== "system") return choice;
  return mq()?.matches ? "dark" : "light";
}

/** The browser chrome's colour (index.html's theme-color) per theme: the top bar's surface. */
export const THEME_COLORS = { light: "#ffffff", dark: "#151b24" } as const;

export function applyTheme(): void {
  const root = document.documentElement;
  const theme = resolved();
  root.dataset.theme = theme;
  root.style.colorScheme = theme;
  // A theme picked in the app overrides the OS one index.html's media queries follow.
  document.querySelectorAll('meta[name="theme-color"]').forEach((m) => m.setAttribute("content", THEME_COLORS[theme]));
}

export function setChoice(choice: ThemeChoice): void {
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    /* ignore */
  }
  applyTheme();
  listeners.forEach((l) => l());
}

mq()?.addEventListener?.("change", () => {
  applyTheme();
  listeners.forEach((l) => l());
});

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useTheme(): { choice: ThemeChoice; resolved: "light" | "dark" } {
  const choice = useSyncExternalStore(subscribe, getChoice);
  const res = useSyncExternalStore(subscribe, () => resolved());
  return { choice, resolved: res };
}

/** Reads a CSS custom property (charts draw on canvas and cannot use CSS variables directly). */
export function cssVar(name: string, fallback: string): string {
  if (typeof document === "undefined") return fallback;
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}
