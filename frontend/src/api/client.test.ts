import { describe, expect, it } from "vitest";
import { toApiError } from "./client";
import { formErrors, topLevel } from "../forms/apiErrors";
import { pluginErrors } from "../pages/PluginForm";

describe("API errors", () => {
  it("reads the one error shape, fields included", () => {
    const e = toApiError(422, {
      error: "InvalidInput",
      detail: "Some settings are not valid.",
      fields: { "config.port": "must be an integer between 1 and 65535", timeout_seconds: "must not exceed the interval" },
    });
    expect(e.status).toBe(422);
    expect(e.kind).toBe("InvalidInput");
    expect(e.message).toBe("Some settings are not valid.");
    expect(e.fields).toEqual({ "config.port": "must be an integer between 1 and 65535", timeout_seconds: "must not exceed the interval" });
  });

  it("keeps a plain {error, detail} as the message, with no fields", () => {
    const e = toApiError(409, { error: "Conflict", detail: "Setup is already done." });
    expect(e.kind).toBe("Conflict");
    expect(e.message).toBe("Setup is already done.");
    expect(e.fields).toEqual({});
  });

  it("ignores field messages that are not sentences", () => {
    expect(toApiError(422, { error: "InvalidInput", detail: "x", fields: { a: 1, b: "ok" } }).fields).toEqual({ b: "ok" });
    expect(toApiError(422, { error: "InvalidInput", detail: "x", fields: ["a"] }).fields).toEqual({});
  });

  it("explains a bodiless server error", () => {
    expect(toApiError(502, null, "Bad Gateway").message).toMatch(/backend logs/);
  });
});

describe("field errors on forms", () => {
  const e = toApiError(422, {
    error: "InvalidInput",
    detail: "Some settings are not valid.",
    fields: {
      "config.port": "must be an integer between 1 and 65535",
      "config.headers.X-Token": "must not be empty",
      "config.gone": "is not a setting of this type",
      timeout_seconds: "must not exceed the interval",
      interval_seconds: "must be at least 1 second",
    },
  });

  it("places config.<key> on the generated field and the plugin's own fields by name", () => {
    expect(pluginErrors(e, ["port", "headers"])).toEqual({
      config: { port: "must be an integer between 1 and 65535", headers: "must not be empty" },
      top: { timeout_seconds: "must not exceed the interval", interval_seconds: "must be at least 1 second" },
      banner: "Some fields need attention: fix the highlighted values and try again. is not a setting of this type",
    });
  });

  it("falls back to the banner when the form has none of the named fields", () => {
    expect(formErrors(e, topLevel("username"))).toEqual({
      fields: {},
      banner: expect.stringMatching(/^Some settings are not valid\. must be an integer/),
    });
  });

  it("uses the detail as the banner for errors without fields", () => {
    expect(formErrors(new Error("offline"), topLevel("name"))).toEqual({ fields: {}, banner: "offline" });
  });
});
