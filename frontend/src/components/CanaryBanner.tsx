// A banner on every page while Unity's own network is down (the connectivity canary).
import { useCanary } from "../api/canary";
import { timeAgo } from "../format";
import "../pages/alerts/channels.css";

export function CanaryBanner() {
  const canary = useCanary();
  const c = canary.data;
  if (!c || !c.enabled || c.state !== "down") return null;
  const probed = c.targets.map((t) => `${t.address ?? t.target}: ${t.detail}`).join("; ");
  return (
    <div className="canary-banner" role="alert" data-testid="canary-banner">
      <strong>Unity’s own network is down</strong>
      {c.since ? ` (since ${timeAgo(c.since)})` : ""}. New failures are marked unknown
      {c.hold_notifications ? " and their notifications are held until it is back, then sent as one message" : ""}.
      {probed ? <div className="muted small">Canary: {probed}</div> : null}
    </div>
  );
}
