// Small shared pieces: health badge, loading/empty/error states, tables, pager, modal dialog, toasts.
import { createContext, useCallback, useContext, useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import type { HealthStatus } from "../api/plugins";
import { errorMessage } from "../api/client";

const HEALTH_LABEL: Record<HealthStatus, string> = {
  healthy: "Healthy",
  degraded: "Degraded",
  down: "Down",
  unknown: "Unknown",
};

export function HealthBadge({ status, disabled }: { status: HealthStatus | undefined; disabled?: boolean }) {
  if (disabled) {
    return (
      <span className="badge badge-disabled" data-status="disabled">
        <span className="dot" aria-hidden="true" />
        Disabled
      </span>
    );
  }
  const s: HealthStatus = status && status in HEALTH_LABEL ? status : "unknown";
  return (
    <span className={`badge badge-${s}`} data-status={s}>
      <span className="dot" aria-hidden="true" />
      {HEALTH_LABEL[s]}
    </span>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorState({ error, onRetry, title = "Something went wrong" }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong>
      <p>{errorMessage(error)}</p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div className="muted">{children}</div> : null}
      {action}
    </div>
  );
}

/** A query's loading and error states; once its data is there, renders `children(data)`. */
export function QueryState<T>({
  query,
  loading,
  failed,
  children,
}: {
  query: UseQueryResult<T>;
  loading?: string;
  failed: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Spinner label={loading} />;
  if (query.isError) return <ErrorState title={failed} error={query.error} onRetry={() => query.refetch()} />;
  return <>{children(query.data)}</>;
}

/** Gives each body cell a `data-label` with its column's name: narrow screens show rows as stacked
 * cards whose cells carry their own label (styles.css), so no page scrolls sideways. */
function labelCells(table: HTMLTableElement, labels: string[]) {
  for (const row of table.tBodies[0]?.rows ?? []) {
    let col = 0;
    for (const cell of row.cells) {
      const label = labels[col] ?? "";
      if (cell.getAttribute("data-label") !== label) cell.setAttribute("data-label", label);
      col += cell.colSpan || 1;
    }
  }
}

/**
 * A data table with the page's rows: a caption for screen readers, scoped column headers (a
 * falsy entry is a column left out) and, with `actions`, a last column for per-row buttons.
 * On narrow screens each row becomes a stacked card whose cells are labelled with their column.
 */
export function Table({
  caption,
  columns,
  actions = false,
  className,
  children,
}: {
  caption: string;
  columns: (string | false | null | undefined)[];
  actions?: boolean;
  className?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLTableElement>(null);
  const shown = columns.filter((c): c is string => Boolean(c));
  const labels = actions ? [...shown, ""] : shown;
  const key = labels.join("\u0000");
  useLayoutEffect(() => {
    const table = ref.current;
    if (!table) return;
    const names = key.split("\u0000");
    labelCells(table, names);
    // Rows rendered by their own components can change without this table re-rendering.
    const tbody = table.tBodies[0];
    if (!tbody || typeof MutationObserver === "undefined") return;
    const mo = new MutationObserver(() => labelCells(table, names));
    mo.observe(tbody, { childList: true, subtree: true });
    return () => mo.disconnect();
  }, [key]);
  useLayoutEffect(() => {
    if (ref.current) labelCells(ref.current, key.split("\u0000"));
  });
  return (
    <div className="table-wrap">
      <table ref={ref} className={className ? `table table-stack ${className}` : "table table-stack"}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) =>
              c ? (
                <th scope="col" key={c}>
                  {c}
                </th>
              ) : null,
            )}
            {actions ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** Newer / Older buttons around "Page n of m" for a list shown newest first; `page` counts from 0. */
export function Pager({ page, pages, onPage, note }: { page: number; pages: number; onPage: (page: number) => void; note?: string }) {
  return (
    <div className="pager">
      <button type="button" className="btn btn-sm" disabled={page === 0} onClick={() => onPage(page - 1)}>
        Newer
      </button>
      <span className="muted small">
        Page {page + 1} of {pages}
        {note}
      </span>
      <button type="button" className="btn btn-sm" disabled={page + 1 >= pages} onClick={() => onPage(page + 1)}>
        Older
      </button>
    </div>
  );
}

/** An accessible modal: focus moves in, Tab stays inside, Escape and the backdrop close it. */
export function Modal({
  title,
  onClose,
  children,
  footer,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = `modal-${useId().replace(/:/g, "")}`;
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    const el = ref.current;
    const focusables = () =>
      el
        ? [...el.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
            (x) => !x.hasAttribute("disabled"),
          )
        : [];
    const first = el?.querySelector<HTMLElement>("[data-autofocus]") ?? focusables()[0];
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        onClose();
      } else if (e.key === "Tab") {
        const f = focusables();
        if (f.length === 0) return;
        const i = f.indexOf(document.activeElement as HTMLElement);
        if (e.shiftKey && i <= 0) {
          e.preventDefault();
          f[f.length - 1].focus();
        } else if (!e.shiftKey && i === f.length - 1) {
          e.preventDefault();
          f[0].focus();
        }
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      prev?.focus?.();
    };
  }, [onClose]);
  return (
    // A pointer convenience only: keyboards close the dialog with Escape (above).
    <div className="modal-backdrop" role="presentation" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby={titleId} ref={ref}>
        <h2 id={titleId}>{title}</h2>
        <div className="modal-body">{children}</div>
        {footer ? <div className="modal-footer">{footer}</div> : null}
      </div>
    </div>
  );
}

export function ConfirmDialog({
  title,
  message,
  confirmLabel,
  danger,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal
      title={title}
      onClose={onCancel}
      footer={
        <>
          <button type="button" className="btn" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button type="button" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} onClick={onConfirm} disabled={busy}>
            {busy ? "Working…" : confirmLabel}
          </button>
        </>
      }
    >
      <div>{message}</div>
      {error ? (
        <p className="field-error" role="alert">
          {errorMessage(error)}
        </p>
      ) : null}
    </Modal>
  );
}

interface Toast {
  id: number;
  text: string;
  kind: "ok" | "error";
}
const ToastContext = createContext<(text: string, kind?: "ok" | "error") => void>(() => {});

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((text: string, kind: "ok" | "error" = "ok") => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, text, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === "error" ? 8000 : 4000);
  }, []);
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`}>
            {t.text}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);

/** A value to copy (a token, a URL, a command line): shown as selectable text with a Copy
 * button. When the clipboard is refused the text is selected so it can be copied by hand.
 * `label` names the value (visible unless `hideLabel`); `children` go after the button. */
export function CopyField({ label, text, hideLabel, children }: { label: string; text: string; hideLabel?: boolean; children?: ReactNode }) {
  const toast = useToast();
  const ref = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      toast("Copied.");
    } catch {
      const sel = window.getSelection();
      if (ref.current && sel) sel.selectAllChildren(ref.current);
      toast("Copying failed: select the text and copy it by hand.", "error");
    }
  };
  return (
    <div className="copy-field">
      <span className={hideLabel ? "sr-only" : "field-label"}>{label}</span>
      <div className="copy-row">
        <code ref={ref} className="copy-text">
          {text}
        </code>
        <button type="button" className="btn btn-sm" aria-label={`Copy ${label.toLowerCase()}`} onClick={() => void copy()}>
          {copied ? "Copied" : "Copy"}
        </button>
        {children}
      </div>
    </div>
  );
}
