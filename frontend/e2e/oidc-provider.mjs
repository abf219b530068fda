// A real OpenID provider on loopback for the SSO tests: the certified `oidc-provider` package
// with one static client and its development login form (any username, any password signs in
// as that username). Run: node e2e/oidc-provider.mjs PORT REDIRECT_URI. It prints
// "listening <issuer>" when ready. The claims an account gets follow its username:
//   `<name>`           email <name>@example.test, groups ["unity-users"]
//   `admin-<name>`     also in group "unity-admins"
//   `outsider-<name>`  in no group
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const redirectUri = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;

function groupsOf(id) {
  if (id.startsWith("outsider-")) return [];
  return id.startsWith("admin-") ? ["unity-users", "unity-admins"] : ["unity-users"];
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "unity",
      client_secret: "unity-test-secret",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  pkce: { required: () => true },
  cookies: { keys: ["oidc-provider-test-cookie-key"] },
  ttl: { IdToken: Number(process.env.ID_TOKEN_TTL || 3600) },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({
      sub: id,
      preferred_username: id,
      name: id,
      email: `${id}@example.test`,
      email_verified: true,
      groups: groupsOf(id),
    }),
  }),
  features: { devInteractions: { enabled: true } },
});

provider.listen(port, "127.0.0.1", () => console.log(`listening ${issuer}`));
