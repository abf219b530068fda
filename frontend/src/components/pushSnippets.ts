// Copy-ready ways for a job to report to a push URL: curl, crontab, systemd and PowerShell.
// Each reports a failure too (status=down), so a job that runs but fails alerts at once
// instead of only after interval + grace.

/** "Nightly backup" → "nightly-backup": a name systemd units can carry. */
export function unitName(pluginName: string): string {
  return (
    pluginName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "job"
  );
}

export function pushSnippets(url: string, pluginName: string): { label: string; text: string }[] {
  const unit = `unity-push-${unitName(pluginName)}`;
  const down = `${url}?status=down&msg=job+failed`;
  return [
    { label: "curl", text: `curl -fsS -m 10 --retry 3 "${url}"` },
    {
      label: "crontab",
      text: `0 3 * * * /path/to/job.sh && curl -fsS -m 10 "${url}" >/dev/null || curl -fsS -m 10 "${down}" >/dev/null`,
    },
    {
      label: "systemd",
      text: [
        `# /etc/systemd/system/${unit}@.service: reports %i (up or down) for the job below`,
        "[Unit]",
        `Description=Report %i to Unity (${pluginName.replace(/%/g, "%%")})`,
        "[Service]",
        "Type=oneshot",
        `ExecStart=/usr/bin/curl -fsS -m 10 --retry 3 "${url.replace(/%/g, "%%")}?status=%i"`,
        "",
        "# In your job's own .service file (the one its timer starts), under [Unit]:",
        `OnSuccess=${unit}@up.service`,
        `OnFailure=${unit}@down.service`,
      ].join("\n"),
    },
    {
      label: "PowerShell",
      text: [
        "try {",
        "  & C:\\path\\to\\job.ps1",
        `  Invoke-RestMethod -Uri "${url}?status=up" -TimeoutSec 10 | Out-Null`,
        "} catch {",
        `  Invoke-RestMethod -Uri ("${url}?status=down&msg=" + [uri]::EscapeDataString($_.Exception.Message)) -TimeoutSec 10 | Out-Null`,
        "}",
      ].join("\n"),
    },
  ];
}
