import { Link } from "../router";

/** The end of a form: its error (focusable, so a failed save can move focus to it), Cancel
 * (a link back to `cancelTo`, or a button calling `onCancel` for forms shown in place), and the
 * submit button that says `busyLabel` ("Saving…") while `busy`. */
export function FormFooter({
  formError,
  cancelTo,
  onCancel,
  busy,
  busyLabel = "Saving…",
  submitLabel,
}: {
  formError: string | null | undefined;
  busy: boolean;
  busyLabel?: string;
  submitLabel: string;
} & ({ cancelTo: string; onCancel?: never } | { onCancel: () => void; cancelTo?: never })) {
  return (
    <>
      {formError ? (
        <p className="form-error" role="alert" tabIndex={-1}>
          {formError}
        </p>
      ) : null}
      <div className="form-actions">
        {onCancel ? (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        ) : (
          <Link to={cancelTo!} className="btn">
            Cancel
          </Link>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </>
  );
}
