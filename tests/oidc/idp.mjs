// A real OpenID Connect provider for the SSO tests: panva/oidc-provider (OpenID certified), on
// 127.0.0.1 with one confidential client. Its development login form accepts any login (the
// password is not checked): the account id becomes the subject, preferred_username and email.
// It signs ID tokens with an RSA key made for the run.
// Logins listed in --disabled get no preferred_username (a provider that withholds the claim).
// --groups LOGIN=GROUP (repeatable) puts LOGIN in GROUP: the "groups" claim, released for the
// scope "groups" (as Keycloak's client scope of that name does); in UserInfo, like the profile.
//
// --post-logout-uri URI registers where the provider may send the browser after a sign-out there
// (RP-Initiated Logout: its end_session_endpoint asks "Do you want to sign-out?" first).
//
//   node idp.mjs --port P --client-id ID --client-secret S --redirect-uri URI [--post-logout-uri URI]
// Prints "ready ISSUER" on stdout once it listens.
import { generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-uri': { type: 'string', multiple: true, default: [] },
    disabled: { type: 'string', multiple: true, default: [] },
    groups: { type: 'string', multiple: true, default: [] },
  },
});
const issuer = `http://127.0.0.1:${values.port}`;
const withheld = new Set(values.disabled);
const groupsOf = new Map();
for (const g of values.groups) {
  const at = g.indexOf('=');
  const login = g.slice(0, at);
  groupsOf.set(login, [...(groupsOf.get(login) ?? []), g.slice(at + 1)]);
}
// A signing key of its own for each run (RS256, 2048 bits), as a provider has in production.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `test-${Date.now()}`, alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: values['client-id'],
    client_secret: values['client-secret'],
    redirect_uris: values['redirect-uri'],
    post_logout_redirect_uris: values['post-logout-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const c = { sub: id, name: id, email: `${id}@bank.example` };
        if (!withheld.has(id)) c.preferred_username = id;
        if (groupsOf.has(id)) c.groups = groupsOf.get(id);
        return c;
      },
    };
  },
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
});
provider.on('server_error', (ctx, err) => console.error('idp server_error', err));
provider.listen(Number(values.port), '127.0.0.1', () => console.log(`ready ${issuer}`));
