/** One <option> per item, valued by its id (as a string) and labelled by its name. */
export function IdOptions({ items }: { items: readonly { id: number; name: string }[] | undefined }) {
  return (
    <>
      {(items ?? []).map((item) => (
        <option key={item.id} value={String(item.id)}>
          {item.name}
        </option>
      ))}
    </>
  );
}
