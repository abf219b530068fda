// Add or edit a plugin instance: pick a type, then a form generated from its config schema
// plus name/interval/timeout/enabled and the parents it depends on; API validation errors land next to the field they name.
import { useMemo, useState, type FormEvent } from "react";
import { usePlugin, usePluginTypes, useSavePlugin, type Plugin, type PluginCreate, type PluginType } from "../api/plugins";
import { FIX_FIELDS_MESSAGE } from "../api/client";
import { formErrors } from "../forms/apiErrors";
import { Link, navigate, useLocation } from "../router";
import { EmptyState, ErrorState, Spinner, useToast } from "../components/ui";
import { FieldShell, SchemaForm, fieldAria, lockedHelp } from "../forms/SchemaForm";
import { fieldsFromSchema, initialValues, toConfig, type FieldValue, type FormValues } from "../forms/schema";
import { FormFooter } from "../forms/FormFooter";
import { DependsOnFieldset } from "./PluginDependsOn";

const CATEGORY_ORDER = ["system", "network", "service", "container", "other"];

function TypePicker({ types }: { types: PluginType[] }) {
  const grouped = useMemo(() => {
    const m = new Map<string, PluginType[]>();
    for (const t of types) m.set(t.category || "other", [...(m.get(t.category || "other") ?? []), t]);
    return [...m.entries()].sort(([a], [b]) => (CATEGORY_ORDER.indexOf(a) + 99) % 99 - (CATEGORY_ORDER.indexOf(b) + 99) % 99 || a.localeCompare(b));
  }, [types]);
  if (types.length === 0) return <EmptyState title="No plugin types are installed">The backend reported no plugin types. Check its logs for plugins that failed to load.</EmptyState>;
  return (
    <div className="stack-lg">
      {grouped.map(([cat, list]) => (
        <section key={cat}>
          <h2 className="section-label">{cat}</h2>
          <div className="type-grid">
            {list.map((t) => (
              <Link
                key={t.type}
                to={`/plugins/new?type=${encodeURIComponent(t.type)}`}
                className={`card type-card${t.available ? "" : " unavailable"}`}
                aria-disabled={!t.available || undefined}
                onClick={(e) => !t.available && e.preventDefault()}
                data-type={t.type}
              >
                <strong>{t.name}</strong>
                <span className="muted small">{t.description}</span>
                {!t.available ? <span className="small warn-text">{t.unavailable_reason ?? "Not available on this server."}</span> : null}
              </Link>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}

interface Meta {
  name: string;
  interval: string;
  timeout: string;
  enabled: boolean;
  locations: string;
  quorum: string;
}

/** What the form offers for a new plugin's timeout: the API does not publish a type's own default. */
const DEFAULT_TIMEOUT_SECONDS = 30;
/** The config field of checks with a time limit of their own (http, tcp, dns…). The form shows it
 * as the one timeout and gives the run room for it, as the API does when creating a plugin. */
const CHECK_TIMEOUT = "timeout_seconds";
const runTimeout = (check: number, interval: number) => Math.min(interval, Math.max(DEFAULT_TIMEOUT_SECONDS, Math.ceil(check)));
const TOP_FIELDS = ["name", "interval_seconds", "timeout_seconds", "enabled", "type", "depends_on", "locations", "down_quorum"];

/** Places the API's field paths on this form: top-level fields by name, "config.port" (or
 * deeper, "config.headers.X") on the generated config field "port". */
export function pluginErrors(e: unknown, configNames: string[]): { top: Record<string, string>; config: Record<string, string>; banner: string | null } {
  const { fields, banner } = formErrors(e, (path) => {
    const [head, key] = path.split(".");
    if (head === "config") return key !== undefined && configNames.includes(key) ? `config.${key}` : undefined;
    return TOP_FIELDS.includes(path) ? path : undefined;
  });
  const top: Record<string, string> = {};
  const config: Record<string, string> = {};
  for (const [k, msg] of Object.entries(fields)) {
    if (k.startsWith("config.")) config[k.slice("config.".length)] = msg;
    else top[k] = msg;
  }
  return { top, config, banner };
}

function PluginEditor({ type, plugin }: { type: PluginType; plugin?: Plugin }) {
  const allFields = useMemo(() => fieldsFromSchema(type.config_schema, type.secret_fields), [type]);
  const check = allFields.find((f) => f.name === CHECK_TIMEOUT && (f.kind === "number" || f.kind === "integer"));
  const fields = useMemo(() => allFields.filter((f) => f !== check), [allFields, check]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields, plugin?.config));
  const [meta, setMeta] = useState<Meta>(() => {
    const interval = plugin?.interval_seconds ?? type.default_interval_seconds ?? 60;
    const stored = check ? plugin?.config[CHECK_TIMEOUT] : plugin?.timeout_seconds;
    const fallback = check ? Number(check.default ?? DEFAULT_TIMEOUT_SECONDS) : DEFAULT_TIMEOUT_SECONDS;
    return {
      name: plugin?.name ?? "",
      interval: String(interval),
      timeout: String(stored ?? Math.min(fallback, interval)),
      locations: (plugin?.locations ?? ["hub"]).join(", "),
      quorum: String(plugin?.down_quorum ?? 1),
      enabled: plugin?.enabled ?? true,
    };
  });
  const [parents, setParents] = useState<number[]>(() => plugin?.depends_on ?? []);
  const [timeoutTouched, setTimeoutTouched] = useState(plugin !== undefined);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [topErrors, setTopErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const toast = useToast();

  const save = useSavePlugin(plugin?.id, {
    onSuccess: (saved) => {
      toast(plugin ? "Plugin saved." : "Plugin added. Its first run starts shortly.");
      navigate(`/plugins/${saved.id}`);
    },
    onError: (e) => {
      const placed = pluginErrors(
        e,
        allFields.map((f) => f.name),
      );
      const { [CHECK_TIMEOUT]: checkError, ...config } = placed.config;
      setErrors(check ? config : placed.config);
      setTopErrors(check && checkError ? { ...placed.top, timeout_seconds: checkError } : placed.top);
      setFormError(placed.banner);
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid='true'], .form-error")?.focus?.());
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { config, errors: cfgErrors } = toConfig(fields, values);
    const top: Record<string, string> = {};
    if (!meta.name.trim()) top.name = "Give the plugin a name.";
    const interval = Number(meta.interval);
    if (!Number.isInteger(interval) || interval < 1) top.interval_seconds = "Enter a whole number of seconds (1 or more).";
    const timeout = Number(meta.timeout);
    if (check ? !(timeout > 0) : !Number.isInteger(timeout) || timeout < 1)
      top.timeout_seconds = check ? "Enter a number of seconds above 0." : "Enter a whole number of seconds (1 or more).";
    const locations = meta.locations.split(",").map((l) => l.trim()).filter(Boolean);
    if (!locations.length) top.locations = 'Name at least one location ("hub" is this server).';
    const quorum = Number(meta.quorum);
    if (!Number.isInteger(quorum) || quorum < 1 || quorum > Math.max(locations.length, 1))
      top.down_quorum = `Enter a whole number from 1 to ${Math.max(locations.length, 1)} (the number of locations).`;
    setErrors(cfgErrors);
    setTopErrors(top);
    if (Object.keys(cfgErrors).length || Object.keys(top).length) {
      setFormError(FIX_FIELDS_MESSAGE);
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());
      return;
    }
    setFormError(null);
    const body: PluginCreate = {
      name: meta.name.trim(),
      type: type.type,
      config: check ? { ...config, [CHECK_TIMEOUT]: timeout } : config,
      interval_seconds: interval,
      timeout_seconds: check ? runTimeout(timeout, interval) : timeout,
      enabled: meta.enabled,
      depends_on: parents,
      locations,
      down_quorum: quorum,
    };
    save.mutate(body);
  };

  const locked = plugin?.discovered?.labels ?? {};
  // The allowed range, said up front: the API refuses a longer timeout rather than cutting it.
  const intervalNow = Number(meta.interval) >= 1 ? Math.floor(Number(meta.interval)) : Infinity;
  const timeoutMax = Math.min(intervalNow, check?.max ?? Infinity);
  const timeoutLimit = check?.max !== undefined && check.max < intervalNow ? `this check's limit` : "at most the interval";
  const topField = (key: keyof Meta, apiKey: string, label: string, props: React.InputHTMLAttributes<HTMLInputElement>, help?: string) => {
    const id = `plugin-${apiKey}`;
    const err = topErrors[apiKey];
    return (
      <FieldShell id={id} label={label} required description={help} error={err}>
        <input
          id={id}
          name={apiKey}
          value={String(meta[key])}
          onChange={(e) => {
            const next = { ...meta, [key]: e.target.value };
            if (key === "timeout") setTimeoutTouched(true);
            // A run must finish before the next is due: keep the untouched timeout within the interval.
            if (key === "interval" && !timeoutTouched) {
              const iv = Number(e.target.value);
              const fallback = check ? Number(check.default ?? DEFAULT_TIMEOUT_SECONDS) : DEFAULT_TIMEOUT_SECONDS;
              if (Number.isInteger(iv) && iv >= 1) next.timeout = String(Math.min(fallback, iv));
            }
            setMeta(next);
          }}
          {...fieldAria(id, err, Boolean(help))}
          aria-required
          {...props}
        />
      </FieldShell>
    );
  };

  return (
    <form className="card form-card" onSubmit={submit} noValidate aria-label={plugin ? "Edit plugin" : "New plugin"}>
      <div className="form-section">
        <h2>General</h2>
        <div className="form-grid">
          {topField("name", "name", "Name", { autoComplete: "off", placeholder: `My ${type.name}` }, "Shown on the dashboard.")}
          {topField(
            "interval",
            "interval_seconds",
            "Interval (seconds)",
            { type: "number", min: 1, step: 1, inputMode: "numeric", disabled: Boolean(locked.interval_seconds) },
            locked.interval_seconds ? lockedHelp(locked.interval_seconds) : `How often it runs. Default ${type.default_interval_seconds}s.`,
          )}
          {topField(
            "timeout",
            "timeout_seconds",
            "Timeout (seconds)",
            check ? { type: "number", min: 0, max: timeoutMax, step: "any", inputMode: "decimal" } : { type: "number", min: 1, max: timeoutMax, step: 1, inputMode: "numeric" },
            `${check?.description ?? "A run taking longer is stopped and counted as failed."}${Number.isFinite(timeoutMax) ? ` Allowed: ${check ? "above 0" : "1"} to ${timeoutMax} s (${timeoutLimit}).` : ""}`,
          )}
          <div className="field field-check">
            <label className="check">
              <input type="checkbox" name="enabled" checked={meta.enabled} onChange={(e) => setMeta({ ...meta, enabled: e.target.checked })} />
              <span>Enabled</span>
            </label>
            <p className="field-help">Disabled plugins keep their settings and data but do not run.</p>
          </div>
        </div>
      </div>
      <div className="form-section">
        <h2>{type.name} settings</h2>
        {type.description ? <p className="muted small">{type.description}</p> : null}
        <SchemaForm
          fields={fields}
          values={values}
          errors={errors}
          locked={locked}
          onChange={(name: string, v: FieldValue) => {
            setValues((old) => ({ ...old, [name]: v }));
            if (errors[name]) setErrors(({ [name]: _drop, ...rest }) => rest);
          }}
        />
      </div>
      <div className="form-section">
        <h2>Locations</h2>
        <div className="form-grid">
          {topField("locations", "locations", "Runs at", { autoComplete: "off" }, '"hub" is this server; add remote probe locations, comma separated (e.g. hub, vps-1).')}
          {topField("quorum", "down_quorum", "Down when at least K locations see it down", { type: "number", min: 1, step: 1, inputMode: "numeric" }, "K of N: with several locations, the plugin is down only when this many agree.")}
        </div>
      </div>
      <DependsOnFieldset selfId={plugin?.id} value={parents} onChange={setParents} error={topErrors.depends_on} />
      <FormFooter
        formError={formError}
        cancelTo={plugin ? `/plugins/${plugin.id}` : "/plugins/new"}
        busy={save.isPending}
        submitLabel={plugin ? "Save changes" : "Add plugin"}
      />
    </form>
  );
}

export function PluginFormPage({ id }: { id?: number }) {
  const types = usePluginTypes();
  const { search } = useLocation();
  const typeParam = new URLSearchParams(search).get("type");
  const plugin = usePlugin(id ?? -1, id !== undefined);
  const editing = id !== undefined;

  if (types.isPending || (editing && plugin.isPending)) return <Spinner />;
  if (types.isError) return <ErrorState title="Could not load plugin types" error={types.error} onRetry={() => types.refetch()} />;
  if (editing && plugin.isError) return <ErrorState title="Could not load the plugin" error={plugin.error} onRetry={() => plugin.refetch()} />;

  const typeName = editing ? plugin.data!.type : typeParam;
  const type = typeName ? types.data.find((t) => t.type === typeName) : undefined;

  return (
    <div className="page narrow">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/">Dashboard</Link> <span aria-hidden="true">/</span>{" "}
        {editing ? (
          <>
            <Link to={`/plugins/${id}`}>{plugin.data!.name}</Link> <span aria-hidden="true">/</span> <span aria-current="page">Edit</span>
          </>
        ) : (
          <span aria-current="page">Add plugin</span>
        )}
      </nav>
      <div className="page-head">
        <div>
          <h1>{editing ? `Edit ${plugin.data!.name}` : type ? `Add ${type.name} plugin` : "Add a plugin"}</h1>
          {!type && !editing ? <p className="muted">Choose what to monitor.</p> : null}
        </div>
      </div>
      {typeName && !type ? (
        <EmptyState title={`Unknown plugin type “${typeName}”`} action={<Link to="/plugins/new" className="btn">Choose another type</Link>}>
          The backend does not offer this type; it may have failed to load.
        </EmptyState>
      ) : type ? (
        <PluginEditor key={type.type + (id ?? "")} type={type} plugin={editing ? plugin.data : undefined} />
      ) : (
        <TypePicker types={types.data} />
      )}
    </div>
  );
}
