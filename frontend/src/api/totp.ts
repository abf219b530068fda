// Two-factor sign-in (TOTP) for the signed-in account, and an admin's reset of another user's.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components } from "./schema";
import { sessionKeys } from "./session";
import { userKeys } from "./users";

type S = components["schemas"];
export type TotpEnrolment = S["TotpEnrolment"];
export type RecoveryCodes = S["RecoveryCodes"];

export const totpKeys = {
  all: ["totp"] as const,
  status: () => [...totpKeys.all, "status"] as const,
};

const getStatus = () => unwrap(client.GET("/api/v1/auth/totp"));
const enrol = () => unwrap(client.POST("/api/v1/auth/totp/enrol"));
const confirm = (code: string) => unwrap(client.POST("/api/v1/auth/totp/confirm", { body: { code } }));
const newCodes = (code: string) => unwrap(client.POST("/api/v1/auth/totp/recovery-codes", { body: { code } }));
const disable = (password: string) => unwrap(client.POST("/api/v1/auth/totp/disable", { body: { password } }));
const reset = (id: number) => unwrap(client.DELETE("/api/v1/users/{user_id}/totp", { params: { path: { user_id: id } } }));

export const useTotpStatus = () => useQuery({ queryKey: totpKeys.status(), queryFn: getStatus });

const refresh: Parameters<typeof useCacheMutation>[1] = (qc) => {
  void qc.invalidateQueries({ queryKey: totpKeys.all });
  void qc.invalidateQueries({ queryKey: sessionKeys.me() });
};

export const useTotpEnrol = (cb?: MutationCallbacks<TotpEnrolment, void>) => useCacheMutation(enrol, () => undefined, cb);
export const useTotpConfirm = (cb?: MutationCallbacks<RecoveryCodes, string>) => useCacheMutation(confirm, refresh, cb);
export const useTotpNewCodes = (cb?: MutationCallbacks<RecoveryCodes, string>) => useCacheMutation(newCodes, refresh, cb);
export const useTotpDisable = (cb?: MutationCallbacks<void, string>) => useCacheMutation(disable, refresh, cb);
export const useTotpReset = (cb?: MutationCallbacks<S["UserOut"], number>) =>
  useCacheMutation(reset, (qc) => void qc.invalidateQueries({ queryKey: userKeys.all }), cb);
