// Whether this browser is signed in, as far as the SPA can tell. The session itself is an
// HttpOnly cookie (`unity_session`) that JavaScript never sees; what the SPA holds is the
// session's CSRF token, from the readable `unity_csrf` cookie, which it sends back in
// `X-CSRF-Token` on state-changing requests. Nothing is kept in localStorage.
const CSRF_COOKIE = "unity_csrf";
const listeners = new Set<() => void>();

function readCookie(): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("=")) || null;
  }
  return null;
}

function clearCookie(): void {
  if (typeof document !== "undefined") document.cookie = `${CSRF_COOKIE}=; Max-Age=0; Path=/; SameSite=Lax`;
}

let current: string | null = readCookie();

export const auth = {
  /** The CSRF token of the current session, or null when signed out. */
  get(): string | null {
    return current;
  },
  /** After sign-in: the token from the answer; null on sign-out or when the session ended. */
  set(csrf: string | null): void {
    current = csrf;
    if (!csrf) clearCookie();
    listeners.forEach((l) => l());
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// Another tab signing in or out changes the cookie; notice it when this tab comes back.
if (typeof window !== "undefined") {
  window.addEventListener("focus", () => {
    const seen = readCookie();
    if (seen !== current) {
      current = seen;
      listeners.forEach((l) => l());
    }
  });
}
