// Renders the fields of a plugin type's config schema with labels, required marks,
// descriptions and inline errors; values stay strings until toConfig() converts them.
import { useId } from "react";
import { SECRET_MASK, type FieldSpec, type FieldValue, type FormValues, type KeyValue } from "./schema";
import { FieldNotes, FieldShell, fieldAria } from "./Field";

export { FieldNotes, FieldShell, fieldAria };

interface Props {
  fields: FieldSpec[];
  values: FormValues;
  errors: Record<string, string>;
  onChange: (name: string, value: FieldValue) => void;
  /** Prefix for error keys coming from the API (e.g. "config."). */
  disabled?: boolean;
  /** Fields set elsewhere (field name -> the container label that sets it): shown read-only. */
  locked?: Record<string, string>;
}

export function lockedHelp(label: string): string {
  return `Set by the container label ${label}; edit the label to change it.`;
}

export function SchemaForm({ fields, values, errors, onChange, disabled, locked = {} }: Props) {
  if (fields.length === 0) {
    return <p className="muted">This plugin type has no settings.</p>;
  }
  return (
    <div className="form-grid">
      {fields.map((f) => (
        <SchemaField
          key={f.name}
          field={locked[f.name] ? { ...f, description: lockedHelp(locked[f.name]) } : f}
          value={values[f.name]}
          error={errors[f.name]}
          onChange={(v) => onChange(f.name, v)}
          disabled={disabled || Boolean(locked[f.name])}
        />
      ))}
    </div>
  );
}

interface FieldProps {
  field: FieldSpec;
  value: FieldValue | undefined;
  error?: string;
  onChange: (v: FieldValue) => void;
  disabled?: boolean;
}

function SchemaField({ field: f, value, error, onChange, disabled }: FieldProps) {
  const id = `cfg-${f.name}-${useId().replace(/:/g, "")}`;
  const common = {
    id,
    name: f.name,
    disabled,
    ...fieldAria(id, error, Boolean(f.description)),
    "aria-required": f.required || undefined,
  } as const;
  const wide = f.kind === "string-array" || f.kind === "number-array" || f.kind === "key-value" || f.kind === "json" || f.kind === "text";

  let control: React.ReactNode;
  switch (f.kind) {
    case "boolean":
      return (
        <div className={`field field-check${error ? " has-error" : ""}`}>
          <label className="check">
            <input type="checkbox" {...common} checked={Boolean(value)} onChange={(e) => onChange(e.target.checked)} />
            <span>{f.label}</span>
          </label>
          <FieldNotes id={id} description={f.description} error={error} />
        </div>
      );
    case "enum":
      control = (
        <select {...common} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
          {f.nullable || value === "" ? <option value="">{f.nullable ? "(none)" : "Choose…"}</option> : null}
          {f.options?.map((o) => (
            <option key={JSON.stringify(o.value)} value={JSON.stringify(o.value)}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case "password":
      control = (
        <input
          {...common}
          type="password"
          autoComplete="new-password"
          value={String(value ?? "")}
          placeholder={value === SECRET_MASK ? undefined : f.required ? "" : "(optional)"}
          onFocus={(e) => {
            // A stored secret shows as the mask; focusing selects it so typing replaces it.
            if (e.target.value === SECRET_MASK) e.target.select();
          }}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case "number":
    case "integer":
      control = (
        <input
          {...common}
          type="number"
          inputMode={f.kind === "integer" ? "numeric" : "decimal"}
          step={f.kind === "integer" ? 1 : "any"}
          min={f.min}
          max={f.max}
          value={String(value ?? "")}
          placeholder={f.placeholder}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case "text":
    case "json":
      control = (
        <textarea
          {...common}
          rows={f.kind === "json" ? 5 : 3}
          spellCheck={false}
          value={String(value ?? "")}
          placeholder={f.kind === "json" ? "JSON value" : f.placeholder}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case "string-array":
    case "number-array":
      control = (
        <StringList
          id={id}
          common={common}
          values={(value as string[]) ?? []}
          onChange={onChange}
          label={f.label}
          disabled={disabled}
          numeric={f.kind === "number-array"}
          placeholder={f.placeholder}
        />
      );
      break;
    case "key-value":
      control = <KeyValueList id={id} rows={(value as KeyValue[]) ?? []} onChange={onChange} label={f.label} disabled={disabled} />;
      break;
    default:
      control = (
        <input
          {...common}
          type={f.format === "uri" ? "url" : f.format === "email" ? "email" : "text"}
          value={String(value ?? "")}
          placeholder={f.placeholder ?? (f.format === "uri" ? "https://…" : undefined)}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <FieldShell id={id} label={f.label} required={f.required} description={f.description} error={error} wide={wide}>
      {control}
    </FieldShell>
  );
}

function StringList({
  id,
  common,
  values,
  onChange,
  label,
  disabled,
  numeric,
  placeholder,
}: {
  id: string;
  common: Record<string, unknown>;
  values: string[];
  onChange: (v: string[]) => void;
  label: string;
  disabled?: boolean;
  numeric?: boolean;
  placeholder?: string;
}) {
  const rows = values.length ? values : [""];
  return (
    <div className="list-editor" role="group" aria-labelledby={`${id}-grouplabel`}>
      <span id={`${id}-grouplabel`} className="sr-only">
        {label}
      </span>
      {rows.map((v, i) => (
        <div className="list-row" key={i}>
          <input
            {...(i === 0 ? common : { disabled })}
            id={i === 0 ? id : `${id}-${i}`}
            aria-label={i === 0 ? undefined : `${label} ${i + 1}`}
            type="text"
            inputMode={numeric ? "numeric" : undefined}
            placeholder={i === 0 ? placeholder : undefined}
            value={v}
            onChange={(e) => {
              const next = [...rows];
              next[i] = e.target.value;
              onChange(next);
            }}
          />
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label={`Remove ${label} ${i + 1}`}
            disabled={disabled || (rows.length === 1 && v === "")}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-ghost btn-sm" disabled={disabled} onClick={() => onChange([...rows, ""])}>
        + Add value
      </button>
    </div>
  );
}

export function KeyValueList({
  id,
  rows,
  onChange,
  label,
  disabled,
}: {
  id: string;
  rows: KeyValue[];
  onChange: (v: KeyValue[]) => void;
  label: string;
  disabled?: boolean;
}) {
  const list = rows.length ? rows : [{ key: "", value: "" }];
  const set = (i: number, patch: Partial<KeyValue>) => {
    const next = list.map((r, j) => (j === i ? { ...r, ...patch } : r));
    onChange(next);
  };
  return (
    <div className="list-editor" role="group" aria-label={label}>
      {list.map((r, i) => (
        <div className="list-row kv" key={i}>
          <input
            id={i === 0 ? id : undefined}
            aria-label={`${label} name ${i + 1}`}
            placeholder="name"
            value={r.key}
            disabled={disabled}
            onChange={(e) => set(i, { key: e.target.value })}
          />
          <input
            aria-label={`${label} value ${i + 1}`}
            placeholder="value"
            value={r.value}
            disabled={disabled}
            onChange={(e) => set(i, { value: e.target.value })}
          />
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label={`Remove ${label} entry ${i + 1}`}
            disabled={disabled || (list.length === 1 && !r.key && !r.value)}
            onClick={() => onChange(list.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        disabled={disabled}
        onClick={() => onChange([...list, { key: "", value: "" }])}
      >
        + Add entry
      </button>
    </div>
  );
}
