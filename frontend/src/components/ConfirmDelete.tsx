import type { ReactNode } from "react";
import { ConfirmDialog } from "./ui";

/** What a delete mutation hook returns, as far as the dialog needs it. */
interface Deletion {
  isPending: boolean;
  error: unknown;
  mutate: (id: number) => void;
}

/** The "delete this?" dialog of the list pages: runs `deletion` on `id`, or closes on Cancel. */
export function ConfirmDelete({
  id,
  deletion,
  title,
  message,
  confirmLabel,
  onCancel,
}: {
  id: number;
  deletion: Deletion;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onCancel: () => void;
}) {
  return (
    <ConfirmDialog
      title={title}
      message={message}
      confirmLabel={confirmLabel}
      danger
      busy={deletion.isPending}
      error={deletion.error}
      onConfirm={() => deletion.mutate(id)}
      onCancel={onCancel}
    />
  );
}
