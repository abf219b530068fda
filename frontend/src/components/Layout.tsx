// The app frame: header with navigation, live-connection indicator, theme switch and sign-out.
import { CanaryBanner } from "./CanaryBanner";
import { useEffect, useState, type ReactNode } from "react";
import { Link, useLocation } from "../router";
import { useLive } from "../live/LiveProvider";
import { setChoice, useTheme } from "../theme";
import { logout, type User } from "../api/session";
import { useQueryClient } from "@tanstack/react-query";
import { useFiringCount } from "../api/alerts";

export function Logo() {
  return (
    <svg className="logo" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path d="M6 18h4l3-7 4 12 3-8 2 3h4" fill="none" stroke="#fff" strokeWidth="2.4" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export function LiveIndicator() {
  const { state, retryNow } = useLive();
  // The countdown's clock: ticks once a second while a retry is pending.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (state.status !== "reconnecting") return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [state.status]);
  let text: string;
  let cls: string;
  switch (state.status) {
    case "open":
      text = "Live";
      cls = "live-ok";
      break;
    case "connecting":
      text = "Connecting…";
      cls = "live-wait";
      break;
    case "reconnecting": {
      const left = state.retryInMs ? Math.max(0, Math.ceil((state.since + state.retryInMs - Math.max(now, state.since)) / 1000)) : 0;
      text = left > 0 ? `Offline · retry in ${left}s` : "Reconnecting…";
      cls = "live-bad";
      break;
    }
    case "unauthorized":
      text = "Live off";
      cls = "live-bad";
      break;
    default:
      text = "Idle";
      cls = "live-wait";
  }
  const title =
    state.status === "open"
      ? "Live updates are on"
      : "Live updates are disconnected; values may be out of date. Click to reconnect now.";
  return (
    <button
      type="button"
      className={`live-indicator ${cls}`}
      onClick={retryNow}
      disabled={state.status === "open"}
      title={title}
      aria-label={title}
      data-live-status={state.status}
    >
      <span className="dot" aria-hidden="true" />
      <span className="live-text">{text}</span>
    </button>
  );
}

/** Shown under the header while the WebSocket has been down for a few seconds. */
export function LiveBanner() {
  const { state, retryNow } = useLive();
  // Which outage the banner is for: it appears once that one has lasted 3 s.
  const [shownFor, setShownFor] = useState<number | null>(null);
  const down = state.status === "reconnecting" || state.status === "unauthorized";
  useEffect(() => {
    if (!down) return;
    const t = setTimeout(() => setShownFor(state.since), 3000);
    return () => clearTimeout(t);
  }, [down, state.since]);
  if (!down || shownFor !== state.since) return null;
  return (
    <div className="banner banner-warn" role="status" data-testid="live-banner">
      <span>
        {state.status === "unauthorized"
          ? "Live updates were refused by the server. Sign out and in again to resume them."
          : "Live updates are disconnected — the numbers below may be out of date. Unity keeps retrying automatically."}
      </span>
      {state.status === "reconnecting" ? (
        <button type="button" className="btn btn-sm" onClick={retryNow}>
          Reconnect now
        </button>
      ) : null}
    </div>
  );
}

export function ThemeToggle() {
  const { resolved } = useTheme();
  const next = resolved === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      className="btn btn-ghost btn-icon"
      onClick={() => setChoice(next)}
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
    >
      {resolved === "dark" ? (
        <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
          <circle cx="12" cy="12" r="4" />
          <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
        </svg>
      ) : (
        <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
        </svg>
      )}
    </button>
  );
}

export function Layout({ user, children }: { user: User; children: ReactNode }) {
  const { pathname } = useLocation();
  const qc = useQueryClient();
  const firing = useFiringCount().data ?? 0;
  const nav: { to: string; label: string; show: boolean; badge?: number }[] = [
    { to: "/", label: "Dashboard", show: true },
    { to: "/alerts", label: "Alerts", show: true, badge: firing },
    { to: "/maintenance", label: "Maintenance", show: true },
    { to: "/status-pages", label: "Status pages", show: true },
    { to: "/users", label: "Users", show: user.role === "admin" },
    { to: "/tokens", label: "API tokens", show: true },
    { to: "/settings", label: "Settings", show: true },
  ];
  // On narrow screens the navigation folds behind a Menu button; a route change folds it again.
  const [menu, setMenu] = useState<{ open: boolean; at: string }>({ open: false, at: pathname });
  const menuOpen = menu.open && menu.at === pathname;
  const active = (to: string) => (to === "/" ? pathname === "/" || pathname.startsWith("/plugins") : pathname.startsWith(to));
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className={menuOpen ? "topbar-inner menu-open" : "topbar-inner"}>
          <Link to="/" className="brand" aria-label="Unity dashboard">
            <Logo />
            <span>Unity</span>
          </Link>
          <button
            type="button"
            className="btn btn-ghost menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenu({ open: !menuOpen, at: pathname })}
          >
            <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
              {menuOpen ? <path d="M6 6l12 12M18 6L6 18" /> : <path d="M4 7h16M4 12h16M4 17h16" />}
            </svg>
            Menu
            {!menuOpen && firing ? (
              <span className="nav-badge" aria-hidden="true">
                {firing}
              </span>
            ) : null}
          </button>
          <nav id="main-nav" className={menuOpen ? "nav open" : "nav"} aria-label="Main">
            {nav
              .filter((n) => n.show)
              .map((n) => (
                <Link key={n.to} to={n.to} className={active(n.to) ? "active" : undefined} aria-current={active(n.to) ? "page" : undefined}>
                  {n.label}
                  {n.badge ? (
                    <span className="nav-badge" data-testid="firing-badge" title={`${n.badge} alert${n.badge === 1 ? "" : "s"} firing`}>
                      {n.badge}
                      <span className="sr-only"> firing</span>
                    </span>
                  ) : null}
                </Link>
              ))}
          </nav>
          <div className="topbar-right">
            <LiveIndicator />
            <ThemeToggle />
            <span className="user-chip" title={`Signed in as ${user.username} (${user.role})`}>
              {user.username}
            </span>
            <button
              type="button"
              className="btn btn-ghost btn-sm sign-out"
              onClick={() => {
                void logout(() => qc.clear());
              }}
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      <LiveBanner />
      <main id="main" className="main" tabIndex={-1}>
        <CanaryBanner />
        {children}
      </main>
    </div>
  );
}
