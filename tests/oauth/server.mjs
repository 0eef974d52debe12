// tests/oauth/server.mjs -- srgate's test OAuth 2.0 authorization server: the real `oidc-provider`
// package (pinned in package-lock.json) on 127.0.0.1, plain HTTP, loopback only. Test code only.
//
// Usage: node server.mjs CONFIG.json      (scripts/oauth-server.sh starts it detached)
//
// CONFIG.json (unknown keys are refused):
//   { "port": 12345,                      required, 127.0.0.1:port
//     "access_token_ttl": 4,              seconds, access tokens of every flow (default 60)
//     "refresh_token_ttl": 86400,         seconds (default 86400)
//     "device_code_ttl": 600,             seconds a device code / user code lives (default 600)
//     "rotate_refresh_tokens": true,      a new refresh token on every use; the used one is then
//                                         refused with invalid_grant (default true). Presenting an
//                                         already used refresh token also revokes its whole grant
//                                         (the newer refresh token and its access tokens): reuse detection.
//     "introspector": {"client_id": "dovecot", "client_secret": "..."},   the resource server
//     "clients": [ {"client_id": "app1", "client_secret": "s1",  (client_secret_basic or _post)
//                   "jwks": {"keys": [RSA public JWK]},          (instead of a secret: private_key_jwt, RS256)
//                   "grant_types": ["client_credentials" | "urn:ietf:params:oauth:grant-type:device_code" | "refresh_token"],
//                   "mailbox": "support@example.test"},          (the mailbox a client_credentials token opens)
//                  ... ] }
//   A client with neither client_secret nor jwks is a public client (token_endpoint_auth_method none).
//   The log goes to this process's stdout/stderr (scripts/oauth-server.sh sends both to
//   DIR/oauth-server.log). No token, secret or user code is ever logged.
//
// Endpoints (ISSUER = http://127.0.0.1:PORT; discovery at ISSUER/.well-known/openid-configuration):
//   POST /token                  token endpoint: grant_type client_credentials, refresh_token,
//                                urn:ietf:params:oauth:grant-type:device_code
//   POST /device/auth            device authorization endpoint (RFC 8628): answers device_code,
//                                user_code, verification_uri (= ISSUER/device), verification_uri_complete,
//                                expires_in, interval
//   GET|POST /device             verification page: the person enters the user code there (an xsrf
//                                field from the GET), then confirms it (confirm=yes), then signs in
//   GET /interaction/UID         the sign-in page (prompt "login") or the consent page (prompt "consent")
//   POST /interaction/UID/login  form field `login` (any non-empty name, e.g. cse1@example.test; no password)
//   POST /interaction/UID/confirm  grants every scope the client asked for
//   POST /interaction/UID/abort  the person refuses (the device then gets access_denied)
//   POST /token/introspection    RFC 7662. The introspector client may introspect every access token
//                                (not refresh tokens); any other client only its own tokens.
//   POST /token/revocation       RFC 7009 (the token's own client must authenticate); revoking a
//                                refresh token revokes its grant: refresh then fails with invalid_grant
//                                and the grant's access tokens introspect as active: false.
//   POST /test/disable-client/ID  test-only admin action, "the app's secret was revoked": from then on
//                                the client's token requests fail with invalid_client and its existing
//                                tokens introspect as active: false. POST /test/enable-client/ID undoes it
//                                (tokens destroyed stay destroyed). Answers 200 {"client_id": ID, "disabled": bool}.
//   Client authentication at /token, /device/auth, /token/introspection, /token/revocation:
//   client_secret_basic or client_secret_post for secret clients (either one), private_key_jwt (RS256,
//   aud = ISSUER or ISSUER/token) for jwks clients, just client_id for public clients.
//
// Scopes a client requests:
//   client_credentials: none needed. Scope values other than openid/offline_access (e.g. a
//     provider's "https://outlook.office365.com/.default") are accepted and ignored: the token
//     answer then carries no `scope`.
//   device flow: scope "offline_access" at /device/auth, or no refresh token is issued
//     ("openid offline_access" also works and adds an id_token; other values, e.g.
//     "https://outlook.office.com/IMAP.AccessAsUser.All", are accepted and dropped). The client must
//     have both the device_code and the refresh_token grant types.
//   refresh_token: no scope (or a subset of the granted ones).
//   A device code gives one token response; presenting it again fails (invalid_grant) and revokes
//   the grant it made (its refresh and access tokens), as for a reused authorization code.
//
// Introspection response: RFC 7662 fields plus `email`, the mailbox the token opens (Dovecot's
// oauth2 passdb compares it with the login name, username_attribute = email):
//   device flow token: the login the person signed in with at /interaction/UID/login;
//   client_credentials token: the client's configured "mailbox" (no email when it has none).

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function log(...parts) {
  console.log(new Date().toISOString(), ...parts);
}

// ---------------------------------------------------------------------------- configuration
function readConfig(path) {
  const cfg = JSON.parse(readFileSync(path, 'utf8'));
  const known = new Set(['port', 'access_token_ttl', 'refresh_token_ttl', 'device_code_ttl',
    'rotate_refresh_tokens', 'introspector', 'clients']);
  for (const key of Object.keys(cfg)) {
    if (!known.has(key)) throw new Error(`unknown config key ${key}`);
  }
  if (!Number.isInteger(cfg.port) || cfg.port <= 0 || cfg.port > 65535) throw new Error('port: an integer 1..65535');
  if (!cfg.introspector?.client_id || !cfg.introspector?.client_secret) throw new Error('introspector: client_id and client_secret');
  if (!Array.isArray(cfg.clients)) throw new Error('clients: an array');
  return {
    port: cfg.port,
    accessTtl: cfg.access_token_ttl ?? 60,
    refreshTtl: cfg.refresh_token_ttl ?? 86400,
    deviceTtl: cfg.device_code_ttl ?? 600,
    rotate: cfg.rotate_refresh_tokens ?? true,
    introspector: cfg.introspector,
    clients: cfg.clients,
  };
}

const cfg = readConfig(process.argv[2] ?? '');
const ISSUER = `http://${HOST}:${cfg.port}`;

/** client_id -> oidc-provider client metadata; the test's mailbox per client_id. */
const metadata = new Map();
const mailboxOf = new Map();
const disabled = new Set();

function clientMetadata(c) {
  const known = new Set(['client_id', 'client_secret', 'jwks', 'grant_types', 'mailbox', 'token_endpoint_auth_method']);
  for (const key of Object.keys(c)) {
    if (!known.has(key)) throw new Error(`client ${c.client_id}: unknown key ${key}`);
  }
  if (!c.client_id) throw new Error('a client without client_id');
  const m = {
    client_id: c.client_id,
    grant_types: c.grant_types ?? [],
    redirect_uris: [],
    response_types: [],
  };
  if (c.jwks) {
    m.jwks = c.jwks;
    m.token_endpoint_auth_method = 'private_key_jwt';
    m.token_endpoint_auth_signing_alg = 'RS256';
  } else if (c.client_secret) {
    m.client_secret = c.client_secret;
    m.token_endpoint_auth_method = 'client_secret_basic'; // client_secret_post is accepted as well
  } else {
    m.token_endpoint_auth_method = 'none';
  }
  if (c.token_endpoint_auth_method) m.token_endpoint_auth_method = c.token_endpoint_auth_method;
  return m;
}

for (const c of cfg.clients) {
  metadata.set(c.client_id, clientMetadata(c));
  if (c.mailbox) mailboxOf.set(c.client_id, c.mailbox);
}
metadata.set(cfg.introspector.client_id, clientMetadata({
  client_id: cfg.introspector.client_id, client_secret: cfg.introspector.client_secret, grant_types: [],
}));

// ---------------------------------------------------------------------------- storage
// In-memory store of everything oidc-provider keeps (tokens, grants, sessions, interactions);
// clients come from the config (so that a disabled client is simply not found).
const store = new Map(); // "Model:id" -> { payload, expiresAt (ms) | undefined }
const byGrant = new Map(); // grantId -> Set of keys
const byUid = new Map(); // session uid -> session id
const byUserCode = new Map(); // user code -> device code id

function live(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

/** Destroys every stored artefact of `clientId` (tokens, device codes, grants). */
function destroyClientArtefacts(clientId) {
  let n = 0;
  for (const [key, entry] of store) {
    if (entry.payload?.clientId === clientId) {
      store.delete(key);
      n += 1;
    }
  }
  return n;
}

class Adapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
      byGrant.get(payload.grantId).add(key);
    }
    if (this.model === 'Session' && payload.uid) byUid.set(payload.uid, id);
    if (payload.userCode) byUserCode.set(payload.userCode, id);
  }

  async find(id) {
    if (this.model === 'Client') {
      return disabled.has(id) ? undefined : metadata.get(id);
    }
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of byGrant.get(grantId) ?? []) store.delete(key);
    byGrant.delete(grantId);
  }
}

// ---------------------------------------------------------------------------- pages
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;

/** The body of a urlencoded form POST to one of our own routes. */
async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 65536) throw new errors.InvalidRequest('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// ---------------------------------------------------------------------------- provider
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'srgate-test', use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  adapter: Adapter,
  clients: [],
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  // exact expiry: a token is dead the second its TTL is over (the default allows 15 s of skew)
  clockTolerance: 0,
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'], email: ['email'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      async allowedPolicy(ctx, client, token) {
        if (disabled.has(token.clientId)) return false;
        if (client.clientId === cfg.introspector.client_id) return token.kind !== 'RefreshToken';
        return token.clientId === client.clientId;
      },
    },
    revocation: { enabled: true },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, out, err) {
        const error = err ? `<p id="error" data-error="${esc(err.error ?? err.name)}">${esc(err.error_description ?? err.message)}</p>\n` : '';
        ctx.body = page('Enter the code shown on your device', `${error}${form}`);
      },
      async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        ctx.body = page('Confirm the device', `<p>Client <b id="client">${esc(client.clientId)}</b> asks to sign in.</p>\n${form}`);
      },
      async successSource(ctx) {
        ctx.body = page('Signed in', `<p id="approved" data-client="${esc(ctx.oidc.client.clientId)}">srgate-oauth: device approved</p>`);
      },
    },
  },
  ttl: {
    AccessToken: cfg.accessTtl,
    ClientCredentials: cfg.accessTtl,
    RefreshToken: cfg.refreshTtl,
    DeviceCode: cfg.deviceTtl,
    Grant: Math.max(cfg.refreshTtl, cfg.deviceTtl) + 3600,
    Interaction: 600,
    Session: 3600,
    IdToken: 3600,
  },
  rotateRefreshToken: cfg.rotate,
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub, email: sub }; } };
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind === 'ClientCredentials') {
      const mailbox = mailboxOf.get(token.clientId);
      return mailbox ? { email: mailbox } : undefined;
    }
    return token.accountId ? { email: token.accountId } : undefined;
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<p id="error" data-error="${esc(out.error)}">${esc(out.error_description)}</p>`);
  },
});

// The interaction pages (the person's sign-in and consent) and the test-only admin routes.
provider.use(async (ctx, next) => {
  const m = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(ctx.path);
  if (m) {
    const [, uid, action] = m;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new errors.InvalidRequest('interaction mismatch');
    const { prompt, params, session } = details;
    if (!action && ctx.method === 'GET') {
      if (prompt.name === 'login') {
        ctx.body = page('Sign in', `<p>Client <b id="client">${esc(params.client_id)}</b> asks you to sign in.</p>
<form id="login" method="post" action="/interaction/${esc(uid)}/login">
<input type="text" name="login" placeholder="you@example.test" autofocus>
<button type="submit">Sign in</button>
</form>`);
      } else {
        const scopes = [...new Set([...(prompt.details.missingOIDCScope ?? []),
          ...Object.values(prompt.details.missingResourceScopes ?? {}).flat()])];
        ctx.body = page('Allow access', `<p>Client <b id="client">${esc(params.client_id)}</b> asks for: <span id="scopes">${esc(scopes.join(' '))}</span></p>
<form id="consent" method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Allow</button></form>
<form id="abort" method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Deny</button></form>`);
      }
      return;
    }
    if (ctx.method !== 'POST' || !action) throw new errors.InvalidRequest('method not allowed');
    let result;
    if (action === 'login') {
      if (prompt.name !== 'login') throw new errors.InvalidRequest('not at the sign-in step');
      const login = ((await readForm(ctx.req)).get('login') ?? '').trim();
      if (!login || login.length > 320 || /[\s<>"]/.test(login)) {
        ctx.status = 400;
        ctx.body = page('Sign in', '<p id="error" data-error="invalid_login">a login name is required</p>');
        return;
      }
      log(`interaction ${uid}: signed in (client ${params.client_id})`);
      result = { login: { accountId: login } };
    } else if (action === 'confirm') {
      if (prompt.name !== 'consent') throw new errors.InvalidRequest('not at the consent step');
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
      log(`interaction ${uid}: consent given (client ${params.client_id})`);
    } else {
      result = { error: 'access_denied', error_description: 'the person refused' };
      log(`interaction ${uid}: refused (client ${params.client_id})`);
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: action !== 'login' });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return;
  }

  const admin = /^\/test\/(disable|enable)-client\/([^/]+)$/.exec(ctx.path);
  if (admin) {
    if (ctx.method !== 'POST') throw new errors.InvalidRequest('POST only');
    const [, verb, id] = admin;
    const clientId = decodeURIComponent(id);
    if (!metadata.has(clientId) || clientId === cfg.introspector.client_id) {
      ctx.status = 404;
      ctx.body = { error: 'unknown client' };
      return;
    }
    if (verb === 'disable') {
      disabled.add(clientId);
      const n = destroyClientArtefacts(clientId);
      log(`test admin: client ${clientId} disabled, ${n} stored artefacts destroyed`);
    } else {
      disabled.delete(clientId);
      log(`test admin: client ${clientId} enabled`);
    }
    ctx.body = { client_id: clientId, disabled: disabled.has(clientId) };
    return;
  }
  await next();
});

// Events, without token values.
const who = (ctx) => ctx?.oidc?.client?.clientId ?? '-';
provider.on('grant.success', (ctx) => log(`token issued: grant_type=${ctx.oidc.params?.grant_type} client=${who(ctx)}`));
for (const event of ['grant.error', 'introspection.error', 'revocation.error', 'device_authorization.error',
  'code_verification.error', 'end_session.error', 'server_error', 'authorization.error']) {
  provider.on(event, (ctx, err) => log(`${event}: client=${who(ctx)} ${err.error ?? err.name}: ${err.error_description ?? err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`));
}
provider.on('revocation.success', (ctx) => log(`token revoked by client=${who(ctx)}`));
provider.on('introspection.success', (ctx) => log(`introspection by client=${who(ctx)}`));
provider.on('device_authorization.success', (ctx) => log(`device authorization: client=${who(ctx)}`));

const server = provider.listen(cfg.port, HOST, () => {
  log(`listening on ${ISSUER} (node ${process.version}, pid ${process.pid})`);
});
server.on('error', (err) => {
  log(`cannot listen on ${HOST}:${cfg.port}: ${err.code ?? err.message}`);
  process.exit(err.code === 'EADDRINUSE' ? 4 : 1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    server.close();
    process.exit(0);
  });
}
