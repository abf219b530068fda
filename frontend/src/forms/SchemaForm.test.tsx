import { useState } from "react";
import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SchemaForm } from "./SchemaForm";
import { SECRET_MASK, fieldsFromSchema, initialValues, type FormValues } from "./schema";
import type { JsonSchema } from "./schema";

const schema: JsonSchema = {
  type: "object",
  required: ["host"],
  properties: {
    host: { type: "string", title: "Host", description: "Name or address." },
    port: { type: "integer", title: "Port", default: 22 },
    method: { type: "string", enum: ["GET", "HEAD"], default: "GET", title: "Method" },
    verify: { type: "boolean", title: "Verify", default: true },
    tags: { type: "array", items: { type: "string" }, title: "Tags" },
    headers: { type: "object", additionalProperties: { type: "string" }, title: "Headers" },
    password: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Password", writeOnly: true, format: "password", "x-secret": true },
  },
};

function Harness({ config, errors = {} }: { config?: Record<string, unknown>; errors?: Record<string, string> }) {
  const fields = fieldsFromSchema(schema, ["password"]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields, config));
  return (
    <>
      <SchemaForm fields={fields} values={values} errors={errors} onChange={(n, v) => setValues((o) => ({ ...o, [n]: v }))} />
      <output data-testid="values">{JSON.stringify(values)}</output>
    </>
  );
}

describe("SchemaForm", () => {
  it("labels every field, marks required ones and shows descriptions and defaults", () => {
    render(<Harness />);
    const host = screen.getByLabelText(/^Host/);
    expect(host).toHaveAttribute("aria-required", "true");
    expect(host).toHaveAccessibleDescription("Name or address.");
    expect(screen.getByLabelText(/^Port/)).toHaveValue(22);
    expect(screen.getByLabelText(/^Method/)).toHaveDisplayValue("GET");
    expect(screen.getByLabelText("Verify")).toBeChecked();
    expect(screen.getByRole("textbox", { name: /^Tags$/ })).toBeInTheDocument();
    expect(screen.getByLabelText("Headers name 1")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Password/)).toHaveAttribute("type", "password");
    // every input, select and textarea has an accessible name
    for (const el of document.querySelectorAll("input, select, textarea")) {
      expect(el).toHaveAccessibleName();
    }
  });

  it("shows a stored secret as the mask in a password field, replaced by typing", async () => {
    render(<Harness config={{ host: "nas", password: SECRET_MASK }} />);
    const pw = screen.getByLabelText(/^Password/) as HTMLInputElement;
    expect(pw.type).toBe("password");
    expect(pw.value).toBe(SECRET_MASK);
    await userEvent.clear(pw);
    await userEvent.type(pw, "s3cret");
    expect(screen.getByTestId("values").textContent).toContain('"password":"s3cret"');
  });

  it("edits list and key/value fields", async () => {
    render(<Harness />);
    await userEvent.type(screen.getByRole("textbox", { name: /^Tags$/ }), "a");
    await userEvent.click(screen.getByRole("button", { name: "+ Add value" }));
    await userEvent.type(screen.getByLabelText("Tags 2"), "b");
    await userEvent.type(screen.getByLabelText("Headers name 1"), "Accept");
    await userEvent.type(screen.getByLabelText("Headers value 1"), "json");
    const v = JSON.parse(screen.getByTestId("values").textContent!);
    expect(v.tags).toEqual(["a", "b"]);
    expect(v.headers).toEqual([{ key: "Accept", value: "json" }]);
  });

  it("shows inline errors tied to their field", () => {
    render(<Harness errors={{ host: "Field required" }} />);
    const host = screen.getByLabelText(/^Host/);
    expect(host).toHaveAttribute("aria-invalid", "true");
    expect(host).toHaveAccessibleDescription(/Field required/);
    expect(screen.getByRole("alert")).toHaveTextContent("Field required");
  });
});
