// Puts the messages of an API error's `fields` map next to the form fields they name; what no
// field of the form shows (or an error without fields) goes to the form's banner.
import { ApiError, FIX_FIELDS_MESSAGE, errorMessage } from "../api/client";

export interface FormErrors {
  /** Form field key → message. */
  fields: Record<string, string>;
  /** For the form-level alert; null when every message sits next to its field. */
  banner: string | null;
}

/** Maps an API field path to a form field key, or undefined when the form has no such field. */
export type FieldMap = (path: string) => string | undefined;

/** A FieldMap for forms whose fields are named like the API's top-level body fields:
 * "labels.mount" lands on "labels". */
export const topLevel =
  (...keys: string[]): FieldMap =>
  (path) => {
    const top = path.split(".")[0];
    return keys.includes(top) ? top : undefined;
  };

export function formErrors(e: unknown, toField: FieldMap): FormErrors {
  if (!(e instanceof ApiError) || Object.keys(e.fields).length === 0) return { fields: {}, banner: errorMessage(e) };
  const fields: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const [path, msg] of Object.entries(e.fields)) {
    const key = toField(path);
    if (key === undefined) unplaced.push(msg);
    else fields[key] ??= msg;
  }
  const placed = Object.keys(fields).length > 0;
  const banner = [placed ? FIX_FIELDS_MESSAGE : e.message, ...unplaced].join(" ");
  return { fields, banner };
}
