// The Alerts section (lazy-loaded): tabs for incidents, rules, silences and channels, and their sub-pages.
import type { User } from "../../api/session";
import { Link, match } from "../../router";
import { EmptyState } from "../../components/ui";
import { IncidentDetailPage } from "./IncidentDetail";
import { IncidentsPage } from "./Incidents";
import { RulesPage } from "./Rules";
import { RuleFormPage } from "./RuleForm";
import { SilencesPage } from "./Silences";
import { ChannelLogPage, ChannelsPage } from "./Channels";

const TABS = [
  { to: "/alerts", label: "Incidents", test: (p: string) => p === "/alerts" || p.startsWith("/alerts/incidents") },
  { to: "/alerts/rules", label: "Rules", test: (p: string) => p.startsWith("/alerts/rules") },
  { to: "/alerts/silences", label: "Silences", test: (p: string) => p.startsWith("/alerts/silences") },
  { to: "/alerts/channels", label: "Channels", test: (p: string) => p.startsWith("/alerts/channels") },
];

function Body({ pathname, user }: { pathname: string; user: User }) {
  let m: Record<string, string> | null;
  if (pathname === "/alerts" || pathname === "/alerts/incidents") return <IncidentsPage />;
  if ((m = match("/alerts/incidents/:id", pathname))) return <IncidentDetailPage key={m.id} id={Number(m.id)} canAck={user.role === "admin"} />;
  if (pathname === "/alerts/rules") return <RulesPage user={user} />;
  if (pathname === "/alerts/rules/new")
    return user.role === "admin" ? <RuleFormPage /> : <EmptyState title="Administrators only">Ask an administrator to add rules.</EmptyState>;
  if ((m = match("/alerts/rules/:id/edit", pathname)))
    return user.role === "admin" ? <RuleFormPage key={m.id} id={Number(m.id)} /> : <EmptyState title="Administrators only">Ask an administrator to change rules.</EmptyState>;
  if (pathname === "/alerts/silences") return <SilencesPage user={user} />;
  if (pathname === "/alerts/channels") return <ChannelsPage user={user} />;
  if ((m = match("/alerts/channels/:id", pathname))) return <ChannelLogPage key={m.id} id={Number(m.id)} user={user} />;
  return (
    <EmptyState title="Page not found" action={<Link to="/alerts" className="btn">Go to incidents</Link>}>
      There is nothing at {pathname}.
    </EmptyState>
  );
}

export default function AlertsSection({ pathname, user }: { pathname: string; user: User }) {
  const title = pathname === "/alerts/rules/new" ? "Add an alert rule" : match("/alerts/rules/:id/edit", pathname) ? "Edit alert rule" : "Alerts";
  return (
    <div className="page" data-testid="alerts">
      <div className="page-head">
        <div>
          <h1>{title}</h1>
        </div>
      </div>
      <nav className="tabs" aria-label="Alerts sections">
        {TABS.map((t) => {
          const on = t.test(pathname);
          return (
            <Link key={t.to} to={t.to} className={on ? "tab active" : "tab"} aria-current={on ? "page" : undefined}>
              {t.label}
            </Link>
          );
        })}
      </nav>
      <Body pathname={pathname} user={user} />
    </div>
  );
}
