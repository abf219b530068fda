import { afterEach, describe, expect, it, vi } from "vitest";
import { act, render, screen } from "@testing-library/react";
import { OfflineBanner } from "./App";

describe("OfflineBanner", () => {
  afterEach(() => vi.restoreAllMocks());

  it("appears when the device goes offline and leaves when it is back", () => {
    const online = vi.spyOn(navigator, "onLine", "get").mockReturnValue(true);
    render(<OfflineBanner />);
    expect(screen.queryByTestId("offline-banner")).toBeNull();
    online.mockReturnValue(false);
    act(() => void window.dispatchEvent(new Event("offline")));
    expect(screen.getByTestId("offline-banner")).toHaveTextContent("You are offline.");
    online.mockReturnValue(true);
    act(() => void window.dispatchEvent(new Event("online")));
    expect(screen.queryByTestId("offline-banner")).toBeNull();
  });
});
