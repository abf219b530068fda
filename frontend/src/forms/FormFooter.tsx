import { Link } from "../router";

/** The end of a full-page form: its error (focusable, so a failed save can move focus to it),
 * Cancel back to `cancelTo`, and the submit button that says "Saving…" while `busy`. */
export function FormFooter({
  formError,
  cancelTo,
  busy,
  submitLabel,
}: {
  formError: string | null | undefined;
  cancelTo: string;
  busy: boolean;
  submitLabel: string;
}) {
  return (
    <>
      {formError ? (
        <p className="form-error" role="alert" tabIndex={-1}>
          {formError}
        </p>
      ) : null}
      <div className="form-actions">
        <Link to={cancelTo} className="btn">
          Cancel
        </Link>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </>
  );
}
