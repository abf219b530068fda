// The connectivity canary: is Unity's own network up? (GET /api/v1/alerts/canary)
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import type { components } from "./schema";

export type Canary = components["schemas"]["CanaryOut"];

export const canaryKey = ["alerts", "canary"] as const;

const getCanary = () => unwrap(client.GET("/api/v1/alerts/canary"));

export const useCanary = () => useQuery({ queryKey: canaryKey, queryFn: getCanary, refetchInterval: 30_000, retry: false });
