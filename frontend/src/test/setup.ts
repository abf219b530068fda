import "@testing-library/jest-dom/vitest";
import { afterEach, vi } from "vitest";
import { cleanup } from "@testing-library/react";

// uPlot draws on canvas, which jsdom lacks: a stand-in records the data it was given.
vi.mock("uplot", () => {
  class FakePlot {
    static instances: FakePlot[] = [];
    data: unknown[];
    constructor(_opts: unknown, data: unknown[], el: HTMLElement) {
      this.data = data;
      const c = document.createElement("canvas");
      el.appendChild(c);
      FakePlot.instances.push(this);
    }
    setData(d: unknown[]) {
      this.data = d;
    }
    setSize() {}
    destroy() {}
  }
  return { default: FakePlot };
});

if (!window.matchMedia) {
  window.matchMedia = ((q: string) => ({
    matches: false,
    media: q,
    addEventListener() {},
    removeEventListener() {},
    addListener() {},
    removeListener() {},
    onchange: null,
    dispatchEvent: () => false,
  })) as unknown as typeof window.matchMedia;
}

afterEach(() => {
  cleanup();
  localStorage.clear();
  vi.unstubAllGlobals();
});
