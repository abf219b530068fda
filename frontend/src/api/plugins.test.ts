import { describe, expect, it } from "vitest";
import { firstRunFailed } from "./plugins";

describe("firstRunFailed", () => {
  const ran = { last_run_at: "2026-01-01T00:00:00Z", last_success_at: null };
  it("is true only for an enabled plugin that finished a run and never succeeded", () => {
    expect(firstRunFailed(true, ran, undefined)).toBe(true);
    expect(firstRunFailed(false, ran, undefined)).toBe(false);
    expect(firstRunFailed(true, { ...ran, last_success_at: ran.last_run_at }, undefined)).toBe(false);
    expect(firstRunFailed(true, ran, { status: "success" })).toBe(false);
    expect(firstRunFailed(true, undefined, { status: "running" })).toBe(false);
    expect(firstRunFailed(true, undefined, { status: "error" })).toBe(true);
  });
});
