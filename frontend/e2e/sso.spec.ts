// Single sign-on through nginx with a real OpenID provider (the certified `oidc-provider`
// package, started by e2e/run.sh on loopback): the sign-in page offers it, the provider's login
// and consent screens stand in for the person, and the browser comes back signed in with the
// role its groups map to. Refusals (tampered state, wrong issuer, expired token) are in
// backend/tests/api/test_oidc.py.
import { expect, test } from "@playwright/test";
import { adminToken } from "./helpers";

test("Sign in with the provider: back in Unity as an admin mapped from the provider's groups", async ({ page, request }) => {
  await adminToken(request); // the flows made the first admin: the sign-in page shows
  // The provider's pages ask a web font host for their typeface: nothing leaves loopback.
  await page.route((url) => !["127.0.0.1", "localhost"].includes(url.hostname), (route) => route.abort());
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();

  // The provider's development login form: any password signs in as that username.
  await page.locator('input[name="login"]').fill("admin-alice");
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  // Its consent screen on a first authorization, then back to Unity.
  const dashboard = page.getByRole("heading", { level: 1, name: "Dashboard" });
  const consent = page.getByRole("button", { name: "Continue" });
  await expect(consent.or(dashboard)).toBeVisible();
  if (await consent.isVisible()) await consent.click();

  await expect(dashboard).toBeVisible();
  expect(new URL(page.url()).origin).toBe(new URL(process.env.E2E_BASE_URL ?? "http://127.0.0.1:8080").origin);
  await expect(page.getByText("admin-alice").first()).toBeVisible();
  // unity-admins → admin: the admin pages are open to this user.
  await page.goto("/users");
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "admin-alice" }).first()).toBeVisible();
});
