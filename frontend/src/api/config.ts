// Configuration as code (docs/CONFIG.md): the YAML export, and apply with a dry run first.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import type { components } from "./schema";

export type ConfigApply = components["schemas"]["ConfigApplyOut"];
export type Managed = components["schemas"]["ManagedOut"];
export type ConfigApplyVars = { text: string; dryRun: boolean; prune: boolean };

export const exportConfig = () => unwrap<string>(client.GET("/api/v1/config/export", { parseAs: "text" }));

const applyConfig = ({ text, dryRun, prune }: ConfigApplyVars) =>
  unwrap<ConfigApply>(
    client.POST("/api/v1/config/apply", {
      params: { query: { dry_run: dryRun, prune } },
      body: text as never, // the YAML text as it is, not JSON
      bodySerializer: (b: unknown) => b as string,
      headers: { "Content-Type": "application/yaml" },
    }),
  );

/** A real apply can change any kind of object: every cached list is refetched. */
export function useApplyConfig() {
  const qc = useQueryClient();
  return useMutation<ConfigApply, Error, ConfigApplyVars>({
    mutationFn: applyConfig,
    onSuccess: (result) => {
      if (result.applied) void qc.invalidateQueries();
    },
  });
}

/** What the UNITY_CONFIG file manages: read-only here, edited in the file (the API answers 409). */
export const useManaged = () =>
  useQuery({ queryKey: ["config", "managed"], queryFn: () => unwrap<Managed>(client.GET("/api/v1/config/managed")), staleTime: 30_000 });

/** The file that manages this object ("unity.yaml"), or null. */
export function managedBy(managed: Managed | undefined, section: string, name: string): string | null {
  return managed?.file && managed.objects[section]?.includes(name) ? managed.file : null;
}
