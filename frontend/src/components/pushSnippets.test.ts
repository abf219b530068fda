import { describe, expect, it } from "vitest";
import { pushSnippets, unitName } from "./pushSnippets";

const URL = "https://unity.example/api/v1/push/abc123";

describe("push snippets", () => {
  it("gives curl, crontab, systemd and PowerShell, each reporting success and failure", () => {
    const s = Object.fromEntries(pushSnippets(URL, "Nightly backup").map((x) => [x.label, x.text]));
    expect(Object.keys(s)).toEqual(["curl", "crontab", "systemd", "PowerShell"]);
    expect(s.curl).toBe(`curl -fsS -m 10 --retry 3 "${URL}"`);
    expect(s.crontab).toContain(`&& curl -fsS -m 10 "${URL}"`);
    expect(s.crontab).toContain(`|| curl -fsS -m 10 "${URL}?status=down&msg=job+failed"`);
    expect(s.systemd).toContain(`ExecStart=/usr/bin/curl -fsS -m 10 --retry 3 "${URL}?status=%i"`);
    expect(s.systemd).toContain("OnSuccess=unity-push-nightly-backup@up.service");
    expect(s.systemd).toContain("OnFailure=unity-push-nightly-backup@down.service");
    expect(s.PowerShell).toContain(`Invoke-RestMethod -Uri "${URL}?status=up"`);
    expect(s.PowerShell).toContain("EscapeDataString($_.Exception.Message)");
  });

  it("escapes % for systemd, which reads it as a specifier", () => {
    const s = pushSnippets("https://u.example/api/v1/push/a%2Fb", "100% backup").find((x) => x.label === "systemd")!.text;
    expect(s).toContain('"https://u.example/api/v1/push/a%%2Fb?status=%i"');
    expect(s).toContain("(100%% backup)");
  });

  it("makes unit names systemd accepts", () => {
    expect(unitName("Nightly backup (NAS)")).toBe("nightly-backup-nas");
    expect(unitName("!!!")).toBe("job");
  });
});
