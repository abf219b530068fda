// One labelled form field (label, required mark, help and error under it) and its ARIA wiring.
// Kept apart from SchemaForm so the sign-in page needs neither it nor the schema helpers.
export function FieldShell({
  id,
  label,
  required,
  description,
  error,
  children,
  wide,
}: {
  id: string;
  label: string;
  required?: boolean;
  description?: string;
  error?: string;
  children: React.ReactNode;
  wide?: boolean;
}) {
  return (
    <div className={`field${error ? " has-error" : ""}${wide ? " wide" : ""}`}>
      <label htmlFor={id} className="field-label">
        {label}
        {required ? (
          <span className="req" aria-hidden="true" title="required">
            {" "}*
          </span>
        ) : null}
      </label>
      {children}
      <FieldNotes id={id} description={description} error={error} />
    </div>
  );
}

/** A field's help text and error, under ids that `fieldAria` points the control at. */
export function FieldNotes({ id, description, error }: { id: string; description?: string; error?: string }) {
  return (
    <>
      {description ? (
        <p className="field-help" id={`${id}-help`}>
          {description}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}

/** The ARIA attributes that tie a control inside FieldShell to its help text and its error. */
export function fieldAria(id: string, error: string | undefined, hasHelp = false) {
  const ids = [hasHelp ? `${id}-help` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { "aria-invalid": error ? true : undefined, "aria-describedby": ids || undefined } as const;
}
