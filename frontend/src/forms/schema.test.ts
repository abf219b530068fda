import { describe, expect, it } from "vitest";
import { SECRET_MASK, fieldsFromSchema, initialValues, toConfig } from "./schema";
import type { JsonSchema } from "./schema";

// Shaped like Pydantic v2's model_json_schema() output for a plugin Config.
const schema: JsonSchema = {
  type: "object",
  title: "HttpConfig",
  additionalProperties: false,
  required: ["url"],
  $defs: { Mode: { type: "string", enum: ["fast", "slow"], title: "Mode" } },
  properties: {
    url: { type: "string", title: "URL", description: "The address to check.", maxLength: 2048, examples: ["https://nas.lan/"] },
    method: { type: "string", enum: ["GET", "HEAD"], default: "GET", title: "Method" },
    mode: { $ref: "#/$defs/Mode", default: "fast" },
    retries: { type: "integer", minimum: 0, maximum: 5, default: 1, title: "Retries" },
    ratio: { type: "number", exclusiveMinimum: 0, default: 0.5 },
    verify_tls: { type: "boolean", default: true, title: "Verify TLS" },
    keyword: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Keyword" },
    tags: { type: "array", items: { type: "string" }, title: "Tags" },
    codes: { type: "array", items: { type: "integer" }, title: "Expected status codes" },
    headers: { type: "object", additionalProperties: { type: "string" }, title: "Request headers" },
    password: {
      anyOf: [{ type: "string" }, { type: "null" }],
      default: null,
      title: "Password",
      writeOnly: true,
      format: "password",
      "x-secret": true,
    },
  },
};

describe("fieldsFromSchema", () => {
  const fields = fieldsFromSchema(schema, ["password"]);
  const by = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("maps every supported JSON Schema shape to a field kind", () => {
    expect(by.url).toMatchObject({ kind: "string", required: true, label: "URL", description: "The address to check." });
    expect(by.url.placeholder).toBe("https://nas.lan/");
    expect(by.method).toMatchObject({ kind: "enum", default: "GET", required: false });
    expect(by.method.options?.map((o) => o.value)).toEqual(["GET", "HEAD"]);
    expect(by.mode).toMatchObject({ kind: "enum", default: "fast" });
    expect(by.retries).toMatchObject({ kind: "integer", min: 0, max: 5 });
    expect(by.ratio).toMatchObject({ kind: "number", exclusiveMin: 0 });
    expect(by.verify_tls).toMatchObject({ kind: "boolean", default: true });
    expect(by.keyword).toMatchObject({ kind: "string", nullable: true });
    expect(by.tags.kind).toBe("string-array");
    expect(by.codes).toMatchObject({ kind: "number-array", itemKind: "integer" });
    expect(by.headers.kind).toBe("key-value");
    expect(by.password).toMatchObject({ kind: "password", secret: true, nullable: true });
  });

  it("humanizes names without a title", () => {
    expect(by.ratio.label).toBe("Ratio");
  });

  it("uses defaults for a new instance and stored values (secrets masked) when editing", () => {
    const fresh = initialValues(fields);
    expect(fresh).toMatchObject({ url: "", method: '"GET"', retries: "1", verify_tls: true, tags: [], headers: [] });
    const stored = initialValues(fields, { url: "http://x/", method: "HEAD", password: SECRET_MASK, headers: { A: "1" }, codes: [200] });
    expect(stored).toMatchObject({ url: "http://x/", method: '"HEAD"', password: SECRET_MASK, headers: [{ key: "A", value: "1" }], codes: ["200"] });
  });
});

describe("toConfig", () => {
  const fields = fieldsFromSchema(schema, ["password"]);

  it("converts form strings to typed config values", () => {
    const values = {
      ...initialValues(fields),
      url: "http://127.0.0.1:8080/",
      retries: "3",
      tags: ["a", " ", "b "],
      codes: ["200", "204"],
      headers: [{ key: "Accept", value: "text/plain" }],
    };
    const { config, errors } = toConfig(fields, values);
    expect(errors).toEqual({});
    expect(config).toEqual({
      url: "http://127.0.0.1:8080/",
      method: "GET",
      mode: "fast",
      retries: 3,
      ratio: 0.5,
      verify_tls: true,
      keyword: null,
      tags: ["a", "b"],
      codes: [200, 204],
      headers: { Accept: "text/plain" },
      password: null,
    });
  });

  it("reports required, range and type problems per field", () => {
    const values = { ...initialValues(fields), retries: "9", ratio: "0", codes: ["2x"], headers: [{ key: "", value: "v" }] };
    const { errors } = toConfig(fields, values);
    expect(errors.url).toBe("This field is required.");
    expect(errors.retries).toBe("Must be at most 5.");
    expect(errors.ratio).toBe("Must be greater than 0.");
    expect(errors.codes).toMatch(/whole number/);
    expect(errors.headers).toMatch(/name/);
  });

  it("sends the mask back unchanged so the stored secret is kept", () => {
    const values = { ...initialValues(fields, { url: "http://x/", password: SECRET_MASK }) };
    expect(toConfig(fields, values).config.password).toBe(SECRET_MASK);
  });
});
