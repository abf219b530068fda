import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { UseQueryResult } from "@tanstack/react-query";
import { CopyField, Pager, QueryState, Table } from "./ui";

function query(state: Partial<UseQueryResult<string[]>>): UseQueryResult<string[]> {
  return { isPending: false, isError: false, refetch: vi.fn(), ...state } as unknown as UseQueryResult<string[]>;
}

describe("QueryState", () => {
  const show = (data: string[]) => <p>{data.length ? data.join(", ") : "none yet"}</p>;

  it("says it is loading, with the page's words", () => {
    render(<QueryState query={query({ isPending: true })} loading="Loading rules…" failed="Could not load rules">{show}</QueryState>);
    expect(screen.getByRole("status")).toHaveTextContent("Loading rules…");
  });

  it("says what failed and retries the query", async () => {
    const q = query({ isError: true, error: new Error("network down") });
    render(<QueryState query={q} failed="Could not load rules">{show}</QueryState>);
    expect(screen.getByRole("alert")).toHaveTextContent("Could not load rules");
    expect(screen.getByRole("alert")).toHaveTextContent("network down");
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(q.refetch).toHaveBeenCalledOnce();
  });

  it("renders its children with the data, empty or not", () => {
    const { rerender } = render(<QueryState query={query({ data: [] })} failed="x">{show}</QueryState>);
    expect(screen.getByText("none yet")).toBeInTheDocument();
    rerender(<QueryState query={query({ data: ["a", "b"] })} failed="x">{show}</QueryState>);
    expect(screen.getByText("a, b")).toBeInTheDocument();
  });
});

describe("Table", () => {
  it("names itself and its columns, leaving out the ones not wanted", () => {
    render(
      <Table caption="Users" columns={["Name", false, "Role"]} actions>
        <tr>
          <td>ada</td>
          <td>admin</td>
          <td>
            <button type="button">Delete</button>
          </td>
        </tr>
      </Table>,
    );
    const table = screen.getByRole("table", { name: "Users" });
    const headers = screen.getAllByRole("columnheader").map((h) => h.textContent);
    expect(headers).toEqual(["Name", "Role", "Actions"]);
    expect(table.querySelector("tbody td")).toHaveTextContent("ada");
  });

  it("labels every cell with its column, so narrow screens can stack rows", async () => {
    function Rows({ extra }: { extra: boolean }) {
      return (
        <>
          <tr>
            <td>ada</td>
            <td>admin</td>
            <td>
              <button type="button">Delete</button>
            </td>
          </tr>
          {extra ? (
            <tr>
              <td>bob</td>
              <td>viewer</td>
              <td />
            </tr>
          ) : null}
        </>
      );
    }
    const { container, rerender } = render(
      <Table caption="Users" columns={["Name", false, "Role"]} actions>
        <Rows extra={false} />
      </Table>,
    );
    const labels = () => [...container.querySelectorAll("tbody td")].map((td) => td.getAttribute("data-label"));
    expect(labels()).toEqual(["Name", "Role", ""]);
    rerender(
      <Table caption="Users" columns={["Name", false, "Role"]} actions>
        <Rows extra />
      </Table>,
    );
    expect(labels()).toEqual(["Name", "Role", "", "Name", "Role", ""]);
  });
});

describe("Pager", () => {
  it("goes newer and older, and not past either end", async () => {
    const onPage = vi.fn();
    const { rerender } = render(<Pager page={0} pages={3} onPage={onPage} note=" · 25 incidents" />);
    expect(screen.getByText("Page 1 of 3 · 25 incidents")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Newer" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Older" }));
    expect(onPage).toHaveBeenLastCalledWith(1);
    rerender(<Pager page={2} pages={3} onPage={onPage} />);
    expect(screen.getByRole("button", { name: "Older" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Newer" }));
    expect(onPage).toHaveBeenLastCalledWith(1);
  });
});

describe("CopyField", () => {
  it("shows the value as text and copies it", async () => {
    const user = userEvent.setup();
    render(<CopyField label="New token" text="tok-123" hideLabel />);
    expect(screen.getByText("tok-123")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Copy new token" }));
    expect(await navigator.clipboard.readText()).toBe("tok-123");
    expect(screen.getByRole("button", { name: "Copy new token" })).toHaveTextContent("Copied");
  });
});
