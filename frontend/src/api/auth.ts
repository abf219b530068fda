// Holds the bearer token (JWT from login) in localStorage and tells subscribers when it changes.
const KEY = "unity.token";
const listeners = new Set<() => void>();

function read(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

let current: string | null = read();

export const auth = {
  get(): string | null {
    return current;
  },
  set(token: string | null): void {
    current = token;
    try {
      if (token) localStorage.setItem(KEY, token);
      else localStorage.removeItem(KEY);
    } catch {
      /* private mode: keep the token in memory only */
    }
    listeners.forEach((l) => l());
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// Another tab logging in or out should be reflected here too.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (e) => {
    if (e.key === KEY) {
      current = e.newValue;
      listeners.forEach((l) => l());
    }
  });
}
