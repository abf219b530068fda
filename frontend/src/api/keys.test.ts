import { describe, expect, it } from "vitest";
import { QueryClient } from "@tanstack/react-query";
import { alertKeys } from "./alerts";
import { metricKeys } from "./metrics";
import { pluginKeys } from "./plugins";

describe("query-key factories", () => {
  it("nest, so invalidating a parent reaches everything under it and nothing beside it", async () => {
    const qc = new QueryClient();
    const seed = (key: readonly unknown[]) => qc.setQueryData(key, 1);
    seed(pluginKeys.list());
    seed(pluginKeys.detail(1));
    seed(pluginKeys.health(1));
    seed(pluginKeys.runPage(1, { limit: 20, offset: 0 }));
    seed(pluginKeys.health(2));
    seed(metricKeys.series(1));
    seed(alertKeys.incidentList({ status: "firing", limit: 200, offset: 0 }));

    await qc.invalidateQueries({ queryKey: pluginKeys.detail(1) });
    const stale = qc
      .getQueryCache()
      .getAll()
      .filter((q) => q.isStale())
      .map((q) => q.queryKey);
    expect(stale).toEqual([pluginKeys.detail(1), pluginKeys.health(1), pluginKeys.runPage(1, { limit: 20, offset: 0 })]);
  });
});
