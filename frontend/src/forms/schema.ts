// Turns a plugin type's JSON Schema (as Pydantic writes it) into a flat list of form fields,
// and converts between form values (strings while editing) and the config object the API takes.

/** The JSON Schema keywords this form generator understands. The API types a plugin type's
 * `config_schema` as an open object (it is whatever the plugin's Pydantic model emits); this
 * is the reading of JSON Schema itself, not an API shape. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  writeOnly?: boolean;
  "x-secret"?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  examples?: unknown[];
  [key: string]: unknown;
}


export const SECRET_MASK = "********";

export type FieldKind =
  | "string"
  | "text"
  | "password"
  | "number"
  | "integer"
  | "boolean"
  | "enum"
  | "string-array"
  | "number-array"
  | "key-value"
  | "json";

export interface FieldSpec {
  name: string;
  label: string;
  description?: string;
  kind: FieldKind;
  required: boolean;
  nullable: boolean;
  default?: unknown;
  options?: { value: unknown; label: string }[];
  secret: boolean;
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  placeholder?: string;
  /** For number arrays: the item type. */
  itemKind?: "integer" | "number";
}

export type KeyValue = { key: string; value: string };
export type FieldValue = string | boolean | string[] | KeyValue[];
export type FormValues = Record<string, FieldValue>;

function resolve(node: JsonSchema | undefined, root: JsonSchema, depth = 0): JsonSchema {
  if (!node) return {};
  if (node.$ref && depth < 20) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(node.$ref);
    const defs = m ? (m[1] === "$defs" ? root.$defs : root.definitions) : undefined;
    const target = m && defs ? defs[decodeURIComponent(m[2])] : undefined;
    const { $ref: _ignored, ...rest } = node;
    void _ignored;
    return resolve({ ...target, ...rest }, root, depth + 1);
  }
  if (node.allOf && node.allOf.length === 1) {
    const { allOf, ...rest } = node;
    return { ...resolve(allOf[0], root, depth + 1), ...rest };
  }
  return node;
}

function humanize(name: string): string {
  const s = name.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function typeOf(s: JsonSchema): string | undefined {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== "null");
  return s.type;
}

export function fieldsFromSchema(schema: JsonSchema | undefined, secretFields: string[] = []): FieldSpec[] {
  if (!schema) return [];
  const root = schema;
  const obj = resolve(schema, root);
  const required = new Set(obj.required ?? []);
  const fields: FieldSpec[] = [];
  for (const [name, raw] of Object.entries(obj.properties ?? {})) {
    let s = resolve(raw, root);
    let nullable = Array.isArray(s.type) && s.type.includes("null");
    const variants = s.anyOf ?? s.oneOf;
    if (variants) {
      const nonNull = variants.filter((v) => resolve(v, root).type !== "null");
      nullable = nullable || nonNull.length < variants.length;
      if (nonNull.length === 1) {
        const { anyOf: _a, oneOf: _o, ...outer } = s;
        void _a;
        void _o;
        s = { ...resolve(nonNull[0], root), ...outer };
      }
    }
    const secret =
      secretFields.includes(name) || s["x-secret"] === true || s.writeOnly === true || s.format === "password";
    const t = typeOf(s);
    let kind: FieldKind;
    let options: FieldSpec["options"];
    if (secret) kind = "password";
    else if (Array.isArray(s.enum)) {
      kind = "enum";
      options = s.enum.map((v) => ({ value: v, label: String(v) }));
    } else if (s.const !== undefined) {
      kind = "enum";
      options = [{ value: s.const, label: String(s.const) }];
    } else if (variants && variants.every((v) => resolve(v, root).const !== undefined || resolve(v, root).type === "null")) {
      kind = "enum";
      options = variants
        .map((v) => resolve(v, root))
        .filter((v) => v.const !== undefined)
        .map((v) => ({ value: v.const, label: String(v.title ?? v.const) }));
    } else if (t === "boolean") kind = "boolean";
    else if (t === "integer") kind = "integer";
    else if (t === "number") kind = "number";
    else if (t === "string")
      kind = s.format === "textarea" || s["x-multiline"] === true || (s.maxLength && s.maxLength > 4096) ? "text" : "string";
    else if (t === "array" && ["integer", "number"].includes(typeOf(resolve(s.items, root)) ?? ""))
      kind = "number-array";
    else if (t === "array" && ["string", undefined].includes(typeOf(resolve(s.items, root))) && !resolve(s.items, root).properties && !resolve(s.items, root).enum)
      kind = "string-array";
    else if (t === "object" && !s.properties && (s.additionalProperties === undefined || s.additionalProperties === true || typeOf(s.additionalProperties as JsonSchema) === "string" || typeof s.additionalProperties === "object"))
      kind = "key-value";
    else kind = "json";
    const examples = Array.isArray(s.examples) ? s.examples : undefined;
    fields.push({
      name,
      label: s.title ? String(s.title) : humanize(name),
      description: s.description,
      kind,
      required: required.has(name),
      nullable,
      default: s.default,
      options,
      secret,
      min: s.minimum,
      max: s.maximum,
      exclusiveMin: s.exclusiveMinimum,
      exclusiveMax: s.exclusiveMaximum,
      minLength: s.minLength,
      maxLength: s.maxLength,
      pattern: s.pattern,
      format: s.format,
      placeholder: examples && examples.length && typeof examples[0] !== "object" ? String(examples[0]) : undefined,
      itemKind: kind === "number-array" ? (typeOf(resolve(s.items, root)) as "integer" | "number") : undefined,
    });
  }
  return fields;
}

/** Initial form values: the stored config when editing, else each field's default. */
export function initialValues(fields: FieldSpec[], config?: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const has = config !== undefined && Object.prototype.hasOwnProperty.call(config, f.name);
    const v = has ? config![f.name] : f.default;
    switch (f.kind) {
      case "boolean":
        values[f.name] = Boolean(v);
        break;
      case "string-array":
      case "number-array":
        values[f.name] = Array.isArray(v) ? v.map(String) : [];
        break;
      case "key-value":
        values[f.name] =
          v && typeof v === "object" ? Object.entries(v as object).map(([key, value]) => ({ key, value: String(value) })) : [];
        break;
      case "json":
        values[f.name] = v === undefined || v === null ? "" : JSON.stringify(v, null, 2);
        break;
      case "enum":
        values[f.name] = v === undefined || v === null ? "" : JSON.stringify(v);
        break;
      default:
        values[f.name] = v === undefined || v === null ? "" : String(v);
    }
  }
  return values;
}

export interface Converted {
  config: Record<string, unknown>;
  errors: Record<string, string>;
}

/** Validates the form the way the API will and builds the config object. */
export function toConfig(fields: FieldSpec[], values: FormValues): Converted {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    const empty = v === undefined || v === "" || (Array.isArray(v) && v.length === 0 && f.kind !== "string-array" && f.kind !== "number-array" && f.kind !== "key-value");
    if (f.kind === "boolean") {
      config[f.name] = Boolean(v);
      continue;
    }
    if (empty) {
      if (f.required) errors[f.name] = "This field is required.";
      else if (f.nullable) config[f.name] = null;
      continue;
    }
    switch (f.kind) {
      case "number":
      case "integer": {
        const n = Number(String(v).trim());
        if (!Number.isFinite(n) || String(v).trim() === "") errors[f.name] = "Enter a number.";
        else if (f.kind === "integer" && !Number.isInteger(n)) errors[f.name] = "Enter a whole number.";
        else if (f.min !== undefined && n < f.min) errors[f.name] = `Must be at least ${f.min}.`;
        else if (f.max !== undefined && n > f.max) errors[f.name] = `Must be at most ${f.max}.`;
        else if (f.exclusiveMin !== undefined && n <= f.exclusiveMin) errors[f.name] = `Must be greater than ${f.exclusiveMin}.`;
        else if (f.exclusiveMax !== undefined && n >= f.exclusiveMax) errors[f.name] = `Must be less than ${f.exclusiveMax}.`;
        else config[f.name] = n;
        break;
      }
      case "enum": {
        try {
          config[f.name] = JSON.parse(String(v));
        } catch {
          config[f.name] = v;
        }
        break;
      }
      case "string-array": {
        const items = (v as string[]).map((s) => s.trim()).filter(Boolean);
        if (items.length === 0 && f.required) errors[f.name] = "Add at least one value.";
        else config[f.name] = items;
        break;
      }
      case "number-array": {
        const items = (v as string[]).map((s) => s.trim()).filter(Boolean);
        const nums = items.map(Number);
        const integer = f.itemKind === "integer";
        if (nums.some((n) => !Number.isFinite(n) || (integer && !Number.isInteger(n))))
          errors[f.name] = integer ? "Every value must be a whole number." : "Every value must be a number.";
        else if (nums.length === 0 && f.required) errors[f.name] = "Add at least one value.";
        else config[f.name] = nums;
        break;
      }
      case "key-value": {
        const out: Record<string, string> = {};
        const rows = (v as KeyValue[]).filter((r) => r.key.trim() || r.value.trim());
        if (rows.some((r) => !r.key.trim())) {
          errors[f.name] = "Every value needs a name.";
          break;
        }
        for (const r of rows) out[r.key.trim()] = r.value;
        if (rows.length === 0 && f.required) errors[f.name] = "Add at least one entry.";
        else config[f.name] = out;
        break;
      }
      case "json": {
        try {
          config[f.name] = JSON.parse(String(v));
        } catch {
          errors[f.name] = "Enter valid JSON.";
        }
        break;
      }
      default: {
        const s = String(v);
        if (f.kind === "password" && s === SECRET_MASK) {
          // The stored secret stays as it is: the API keeps it when it receives the mask back.
          config[f.name] = s;
          break;
        }
        if (f.minLength !== undefined && s.length < f.minLength) errors[f.name] = `Use at least ${f.minLength} characters.`;
        else if (f.maxLength !== undefined && s.length > f.maxLength) errors[f.name] = `Use at most ${f.maxLength} characters.`;
        else if (f.pattern && !safeTest(f.pattern, s)) errors[f.name] = `Does not match the expected format (${f.pattern}).`;
        else if (f.format === "uri" && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(s)) errors[f.name] = "Enter a full URL, e.g. http://host:8080/path.";
        else config[f.name] = s;
      }
    }
  }
  return { config, errors };
}

function safeTest(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern, "u").test(s);
  } catch {
    return true;
  }
}
