import { describe, expect, it } from "vitest";
import { badgeUrls } from "../api/statusPages";
import { draftBody, draftErrors, draftOf, newItem } from "./statusDraft";

describe("status page draft", () => {
  it("a new draft needs an address, a title, a plugin and a public name", () => {
    const errs = draftErrors(draftOf());
    expect(Object.keys(errs).sort()).toEqual(["groups.0.items.0.name", "groups.0.items.0.plugin_id", "slug", "title"]);
  });

  it("refuses addresses the server would refuse", () => {
    for (const bad of ["Home", "-home", "home-", "home lab", "a".repeat(65)]) expect(draftErrors({ ...draftOf(), slug: bad }).slug).toBeTruthy();
    for (const good of ["home", "home-lab", "a1", "x"]) expect(draftErrors({ ...draftOf(), slug: good }).slug).toBeUndefined();
  });

  it("sends trimmed texts and keeps an item's key so badge URLs survive a rename", () => {
    const d = draftOf();
    d.slug = "home";
    d.title = "  Home lab ";
    d.groups = [{ name: " Storage ", items: [{ ...newItem(), plugin_id: 3, name: " NAS ", key: "nas" }] }];
    d.announcements = [{ title: " Router ", body: "", active: true }];
    expect(draftErrors(d)).toEqual({});
    const body = draftBody(d);
    expect(body.title).toBe("Home lab");
    expect(body.groups?.[0]).toEqual({ name: "Storage", items: [{ plugin_id: 3, name: "NAS", key: "nas", show_response_time: false, badge: true }] });
    expect(body.announcements?.[0]).toEqual({ title: "Router", body: "", active: true, posted_at: null });
  });
});

describe("status page access fields", () => {
  const ready = () => ({ ...draftOf(), slug: "home", title: "Home", groups: [] });

  it("checks password length, host names and frame origins as the server does", () => {
    expect(draftErrors({ ...ready(), password: "short" }).password).toBeTruthy();
    for (const bad of ["https://status.example.org", "status.example.org:8080", "localhost"]) expect(draftErrors({ ...ready(), custom_domain: bad }).custom_domain).toBeTruthy();
    expect(draftErrors({ ...ready(), embed_origins: "https://home.example.org\nhttps://x.org/path" }).embed_origins).toMatch("https://x.org/path");
    expect(draftErrors({ ...ready(), password: "long-enough", custom_domain: "status.example.org", embed_origins: "https://home.example.org 'self'" })).toEqual({});
  });

  it("sends a password only when one is typed, and empty strings to remove in a change", () => {
    const created = draftBody({ ...ready(), custom_domain: "", embed_origins: "https://a.org\nhttps://b.org" });
    expect(created).not.toHaveProperty("password");
    expect(created.custom_domain).toBeNull();
    expect(created.embed_origins).toEqual(["https://a.org", "https://b.org"]);
    expect(draftBody({ ...ready(), password: "long-enough" }).password).toBe("long-enough");
    const change = draftBody({ ...ready(), removePassword: true }, true);
    expect(change.password).toBe("");
    expect(change.custom_domain).toBe("");
  });
});

describe("badge URLs", () => {
  it("lists status and uptime, and response time only where the page shows it", () => {
    const base = "https://unity.example/api/v1/public/badge/home/nas";
    expect(badgeUrls("https://unity.example", "home", { key: "nas" }).map((b) => b.url)).toEqual([`${base}/status`, `${base}/uptime?window=30d`]);
    expect(badgeUrls("https://unity.example", "home", { key: "nas", show_response_time: true }).map((b) => b.url)).toContain(`${base}/response`);
  });
});
