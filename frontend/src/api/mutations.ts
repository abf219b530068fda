// The one shape every mutation hook in src/api/ shares: the domain module says which cache
// entries a success touches; the page adds what it wants to happen next (toast, navigate).
import { useMutation, useQueryClient, type QueryClient, type UseMutationOptions } from "@tanstack/react-query";

/** What a page may add to a domain mutation. */
export type MutationCallbacks<TData, TVars> = Pick<UseMutationOptions<TData, Error, TVars>, "onSuccess" | "onError">;

export function useCacheMutation<TData, TVars>(
  mutationFn: (vars: TVars) => Promise<TData>,
  onCache: (qc: QueryClient, data: TData, vars: TVars) => void,
  cb: MutationCallbacks<TData, TVars> = {},
) {
  const qc = useQueryClient();
  return useMutation<TData, Error, TVars>({
    mutationFn,
    onError: cb.onError,
    onSuccess: (data, vars, ...rest) => {
      onCache(qc, data, vars);
      return cb.onSuccess?.(data, vars, ...rest);
    },
  });
}
