import { describe, expect, it } from "vitest";
import { asList, locToField, toApiError } from "./client";
import { splitErrors } from "../pages/PluginForm";

describe("API errors", () => {
  it("turns a FastAPI 422 body into per-field messages", () => {
    const e = toApiError(422, {
      detail: [
        { loc: ["body", "config", "url"], msg: "Field required", type: "missing" },
        { loc: ["body", "interval_seconds"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" },
        { loc: ["body", "config", "port"], msg: "Value error, port must be 1-65535", type: "value_error" },
      ],
    });
    expect(e.status).toBe(422);
    expect(e.fieldErrors).toEqual({
      "config.url": "Field required",
      interval_seconds: "Input should be greater than or equal to 1",
      "config.port": "port must be 1-65535",
    });
    expect(splitErrors(e.fieldErrors)).toEqual({
      config: { url: "Field required", port: "port must be 1-65535" },
      top: { interval_seconds: "Input should be greater than or equal to 1" },
      other: [],
    });
  });

  it("reads the plugins service's 'config.field: msg' sentences as field errors", () => {
    const e = toApiError(422, { error: "InvalidInput", detail: "config.url: Field required; config.timeout_seconds: Input should be greater than 0" });
    expect(e.fieldErrors).toEqual({ "config.url": "Field required", "config.timeout_seconds": "Input should be greater than 0" });
  });

  it("keeps a plain {error, detail} as the message", () => {
    const e = toApiError(409, { error: "Conflict", detail: "Setup is already done." });
    expect(e.kind).toBe("Conflict");
    expect(e.message).toBe("Setup is already done.");
    expect(e.fieldErrors).toEqual({});
  });

  it("explains a bodiless server error", () => {
    expect(toApiError(502, null, "Bad Gateway").message).toMatch(/backend logs/);
  });

  it("maps loc to a field path", () => {
    expect(locToField(["body", "config", "headers", "X"])).toBe("config.headers.X");
    expect(locToField(["query", "points"])).toBe("points");
    expect(locToField(undefined)).toBe("");
  });

  it("accepts bare arrays and pages", () => {
    expect(asList([1, 2])).toEqual([1, 2]);
    expect(asList({ items: [3], total: 1 })).toEqual([3]);
    expect(asList(null)).toEqual([]);
  });
});
