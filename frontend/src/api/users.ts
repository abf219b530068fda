// User administration and API tokens: query keys, fetchers, hooks and mutations.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components } from "./schema";

type S = components["schemas"];
export type { User, Role } from "./session";
export type UserCreate = S["UserCreate"];
export type UserUpdate = S["UserUpdate"];
export type ApiToken = S["ApiTokenOut"];
export type ApiTokenCreated = S["ApiTokenCreated"];
import type { User } from "./session";

export const userKeys = {
  all: ["users"] as const,
  list: () => [...userKeys.all, "list"] as const,
};

export const tokenKeys = {
  all: ["tokens"] as const,
  list: () => [...tokenKeys.all, "list"] as const,
};

export const browserSessionKeys = {
  all: ["browser-sessions"] as const,
  list: () => [...browserSessionKeys.all, "list"] as const,
};

const listUsers = () => unwrap(client.GET("/api/v1/users"));
const createUser = (body: UserCreate) => unwrap(client.POST("/api/v1/users", { body }));
const updateUser = (id: number, body: UserUpdate) =>
  unwrap(client.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: id } }, body }));
const listTokens = () => unwrap(client.GET("/api/v1/tokens"));
const createToken = (name: string) => unwrap(client.POST("/api/v1/tokens", { body: { name } }));
const deleteToken = (id: number) =>
  unwrap(client.DELETE("/api/v1/tokens/{token_id}", { params: { path: { token_id: id } } }));

const listSessions = () => unwrap(client.GET("/api/v1/auth/sessions"));
const revokeSession = (id: number) =>
  unwrap(client.DELETE("/api/v1/auth/sessions/{session_id}", { params: { path: { session_id: id } } }));

export const useUsers = (enabled: boolean) => useQuery({ queryKey: userKeys.list(), queryFn: listUsers, enabled });
export const useTokens = () => useQuery({ queryKey: tokenKeys.list(), queryFn: listTokens });

const refreshUsers: Parameters<typeof useCacheMutation>[1] = (qc) => void qc.invalidateQueries({ queryKey: userKeys.all });
const refreshTokens: Parameters<typeof useCacheMutation>[1] = (qc) => void qc.invalidateQueries({ queryKey: tokenKeys.all });

export const useCreateUser = (cb?: MutationCallbacks<User, UserCreate>) => useCacheMutation(createUser, refreshUsers, cb);
export const useUpdateUser = (cb?: MutationCallbacks<User, { id: number; body: UserUpdate }>) =>
  useCacheMutation(({ id, body }: { id: number; body: UserUpdate }) => updateUser(id, body), refreshUsers, cb);
export const useCreateToken = (cb?: MutationCallbacks<ApiTokenCreated, string>) => useCacheMutation(createToken, refreshTokens, cb);
export const useDeleteToken = (cb?: MutationCallbacks<void, number>) => useCacheMutation(deleteToken, refreshTokens, cb);

export const useBrowserSessions = () => useQuery({ queryKey: browserSessionKeys.list(), queryFn: listSessions });
const refreshSessions: Parameters<typeof useCacheMutation>[1] = (qc) => void qc.invalidateQueries({ queryKey: browserSessionKeys.all });
export const useRevokeSession = (cb?: MutationCallbacks<void, number>) => useCacheMutation(revokeSession, refreshSessions, cb);
