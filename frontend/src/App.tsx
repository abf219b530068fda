// Top-level routing and the auth gate: setup or login when signed out, the app shell when signed in.
import { lazy, Suspense, useState, useSyncExternalStore } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { auth } from "./api/auth";
import { latestQuery } from "./api/metrics";
import { pluginListQuery, pluginTypesQuery } from "./api/plugins";
import { logout, useMe, useSetupStatus, type User } from "./api/session";
import { ApiError } from "./api/client";
import { match, navigate, useLocation } from "./router";
import { LiveProvider } from "./live/LiveProvider";
import { Layout } from "./components/Layout";
import { EmptyState, ErrorState, Spinner } from "./components/ui";
import { LoginPage, SetupPage } from "./pages/AuthPages";
import { Dashboard } from "./pages/Dashboard";
import { Link } from "./router";

// The alerts pages are a separate chunk: most visits never open them.
const AlertsSection = lazy(() => import("./pages/alerts"));
// Every page but the dashboard loads when first visited: the first paint needs only the dashboard.
const PluginDetail = lazy(() => import("./pages/PluginDetail").then((m) => ({ default: m.PluginDetail })));
const PluginFormPage = lazy(() => import("./pages/PluginForm").then((m) => ({ default: m.PluginFormPage })));
const UsersPage = lazy(() => import("./pages/Admin").then((m) => ({ default: m.UsersPage })));
const TokensPage = lazy(() => import("./pages/Admin").then((m) => ({ default: m.TokensPage })));
const SettingsPage = lazy(() => import("./pages/Settings").then((m) => ({ default: m.SettingsPage })));
const AuditLogPage = lazy(() => import("./pages/AuditLog").then((m) => ({ default: m.AuditLogPage })));
const ConfigPage = lazy(() => import("./pages/ConfigPage").then((m) => ({ default: m.ConfigPage })));
const MaintenancePage = lazy(() => import("./pages/Maintenance").then((m) => ({ default: m.MaintenancePage })));
const StatusPagesPage = lazy(() => import("./pages/StatusPages").then((m) => ({ default: m.StatusPagesPage })));
// Public status pages: a visitor needs this one chunk, not the signed-in app.
const PublicStatus = lazy(() => import("./pages/PublicStatus").then((m) => ({ default: m.PublicStatus })));

function useToken(): string | null {
  return useSyncExternalStore(auth.subscribe, auth.get);
}

function SignedOut() {
  const { pathname } = useLocation();
  const setup = useSetupStatus();
  const [forced, setForced] = useState<"setup" | "login" | null>(pathname === "/setup" ? "setup" : null);
  if (setup.isPending) return <Spinner label="Connecting to Unity…" />;
  if (setup.isError)
    return (
      <div className="auth-wrap">
        <ErrorState title="Cannot reach the server" error={setup.error} onRetry={() => setup.refetch()} />
      </div>
    );
  const showSetup = forced ? forced === "setup" : setup.data?.needs_setup === true;
  if (showSetup)
    return (
      <SetupPage
        onDone={() => navigate("/", { replace: true })}
        onLogin={() => {
          setForced("login");
          void setup.refetch();
        }}
      />
    );
  return <LoginPage setupUnknown={setup.data === null} onSetup={() => setForced("setup")} />;
}

function Routes({ user }: { user: User }) {
  const { pathname } = useLocation();
  return <Suspense fallback={<Spinner label="Loading…" />}>{page(pathname, user)}</Suspense>;
}

function page(pathname: string, user: User) {
  let m: Record<string, string> | null;
  if (pathname === "/" || pathname === "/login" || pathname === "/setup") return <Dashboard user={user} />;
  if (pathname === "/plugins/new") return <PluginFormPage />;
  if ((m = match("/plugins/:id/edit", pathname))) return <PluginFormPage key={m.id} id={Number(m.id)} />;
  if ((m = match("/plugins/:id", pathname))) return <PluginDetail key={m.id} id={Number(m.id)} user={user} />;
  if (pathname === "/users") return <UsersPage me={user} />;
  if (pathname === "/tokens") return <TokensPage />;
  if (pathname === "/settings") return <SettingsPage user={user} />;
  if (pathname === "/settings/configuration") return <ConfigPage user={user} />;
  if (pathname === "/settings/audit") return <AuditLogPage user={user} />;
  if (pathname === "/maintenance") return <MaintenancePage user={user} />;
  if (pathname === "/status-pages") return <StatusPagesPage user={user} />;
  if (pathname === "/alerts" || pathname.startsWith("/alerts/")) return <AlertsSection pathname={pathname} user={user} />;
  return (
    <div className="page">
      <h1>Page not found</h1>
      <EmptyState title="Nothing here" action={<Link to="/" className="btn">Go to the dashboard</Link>}>
        There is nothing at {pathname}.
      </EmptyState>
    </div>
  );
}

function SignedIn({ token }: { token: string }) {
  const qc = useQueryClient();
  // Start the dashboard's requests alongside /auth/me instead of after it: one round trip less.
  useState(() => {
    void qc.prefetchQuery(pluginListQuery);
    void qc.prefetchQuery(latestQuery);
    void qc.prefetchQuery(pluginTypesQuery);
    return null;
  });
  const me = useMe();
  if (me.isPending) return <Spinner label="Loading your account…" />;
  if (me.isError) {
    if (me.error instanceof ApiError && me.error.status === 401) {
      auth.set(null);
      return null;
    }
    return (
      <div className="auth-wrap">
        <ErrorState title="Could not load your account" error={me.error} onRetry={() => me.refetch()} />
        <button type="button" className="btn btn-ghost" onClick={() => void logout()}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <LiveProvider token={token}>
      <Layout user={me.data}>
        <Routes user={me.data} />
      </Layout>
    </LiveProvider>
  );
}

const onConnectivity = (l: () => void) => {
  window.addEventListener("online", l);
  window.addEventListener("offline", l);
  return () => {
    window.removeEventListener("online", l);
    window.removeEventListener("offline", l);
  };
};

/** The device has no network: the shell still opens (pwa/sw.js), its data cannot. */
export function OfflineBanner() {
  const online = useSyncExternalStore(onConnectivity, () => navigator.onLine);
  if (online) return null;
  return (
    <div className="banner banner-warn" role="status" data-testid="offline-banner">
      You are offline. Unity shows its pages, but their data needs the server: they fill in when the connection is back.
    </div>
  );
}

/** At / on a status page's custom domain, the server names the page on the root element. */
const hostPage = () => (typeof document !== "undefined" ? document.getElementById("root")?.dataset.statusPage : undefined) || null;

export function App() {
  const token = useToken();
  const { pathname } = useLocation();
  const status = match("/status/:slug", pathname) ?? (pathname === "/" && hostPage() ? { slug: hostPage() as string } : null);
  if (status)
    return (
      <Suspense fallback={<Spinner label="Loading the status page…" />}>
        <PublicStatus slug={status.slug} />
      </Suspense>
    );
  return (
    <>
      <OfflineBanner />
      {token ? <SignedIn key={token} token={token} /> : <SignedOut />}
    </>
  );
}
