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

export function applyTheme(): void {
  const root = document.documentElement;
  root.dataset.theme = resolved();
  root.style.colorScheme = resolved();
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
