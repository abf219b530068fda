import { describe, expect, it } from "vitest";
import { CHANNEL_KINDS, buildChannelUrl } from "./channelKinds";
import examplesJson from "./channelKinds.examples.json";

const examples = examplesJson as unknown as { kind: string; values: Record<string, string>; url: string }[];

const kind = (id: string) => CHANNEL_KINDS.find((k) => k.id === id)!;

describe("guided channel forms", () => {
  it.each(examples.map((e) => [`${e.kind} → ${e.url}`, e] as const))("builds %s", (_name, e) => {
    expect(buildChannelUrl(kind(e.kind), e.values)).toEqual({ url: e.url, errors: {} });
  });

  it("covers ten services, each with an example the backend feeds to Apprise", () => {
    expect(CHANNEL_KINDS).toHaveLength(10);
    expect(new Set(examples.map((e) => e.kind))).toEqual(new Set(CHANNEL_KINDS.map((k) => k.id)));
  });

  it("names each missing field and leaves optional ones alone", () => {
    expect(buildChannelUrl(kind("gotify"), { server: "", token: "" }).errors).toEqual({
      server: "Enter the server.",
      token: "Enter the application token.",
    });
    expect(buildChannelUrl(kind("ntfy"), { topic: "t" })).toEqual({ url: "ntfys://ntfy.sh/t", errors: {} });
  });

  it("puts a builder's complaint on the field it is about", () => {
    expect(buildChannelUrl(kind("discord"), { webhook: "https://example.com/hook" }).errors.webhook).toMatch(/Paste the whole webhook URL/);
    const email = { smtp: "smtp.example.com", port: "99999", user: "u", password: "p", from: "a@b.c", to: "d@e.f" };
    expect(buildChannelUrl(kind("email"), email).errors).toEqual({ port: "The port is a number such as 587 or 465." });
    expect(buildChannelUrl(kind("gotify"), { server: "not a host", token: "x" }).errors.server).toMatch(/host name or an http/);
    expect(buildChannelUrl(kind("telegram"), { bot_token: "nope", chat_id: "1" }).errors.bot_token).toMatch(/BotFather/);
  });
});
