// The server's own state: /health (also when it answers 503) and the scheduler.
import { useQuery } from "@tanstack/react-query";
import { ApiError, client, NETWORK_ERROR_MESSAGE } from "./client";
import type { components } from "./schema";

export type SystemHealth = components["schemas"]["HealthBody"];

export const systemKeys = {
  all: ["system"] as const,
  health: () => [...systemKeys.all, "health"] as const,
};

/** /health answers 503 with the same body when degraded; both are worth showing. */
export async function systemHealth(): Promise<SystemHealth & { httpStatus: number }> {
  const res = await client.GET("/health").catch(() => {
    throw new ApiError(0, "NetworkError", NETWORK_ERROR_MESSAGE);
  });
  const body = res.data ?? res.error;
  const status = res.response.status;
  if (!body) throw new ApiError(status, `HTTP${status}`, `The server answered ${status} without a health report.`);
  return { ...body, httpStatus: status };
}

export const useSystemHealth = () =>
  useQuery({ queryKey: systemKeys.health(), queryFn: systemHealth, refetchInterval: 15_000 });
