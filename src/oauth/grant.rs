//! Token requests: the form a token endpoint (RFC 6749) or a device-authorization
//! endpoint (RFC 8628) is sent, with the client's authentication, and the claims of
//! a signed client assertion (RFC 7523, a certificate credential).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::Timestamp;

/// What a token request asks for.
#[derive(Clone, Copy)]
pub enum Grant<'a> {
    /// App-only access (`client_credentials`).
    ClientCredentials,
    /// A new access token for this refresh token.
    Refresh(&'a str),
    /// The tokens of an approved device code (polled while the person signs in).
    DeviceCode(&'a str),
}

/// How the client proves who it is.
#[derive(Clone)]
pub enum ClientAuth {
    /// A public client: its id only (Microsoft's device flow for a public app).
    None,
    /// A client secret: HTTP Basic (RFC 6749 section 2.3.1) or in the form (`post`).
    Secret {
        /// The secret.
        secret: String,
        /// In the form rather than in an `Authorization` header.
        post: bool,
    },
    /// A signed JWT (RFC 7523; Microsoft's certificate credentials): the compact token.
    Assertion(String),
}

/// A request ready to send: the form, and the `Authorization` header when there is one.
pub struct Request {
    /// `application/x-www-form-urlencoded` pairs.
    pub form: Vec<(String, String)>,
    /// `Basic …` when the client authenticates with HTTP Basic.
    pub authorization: Option<String>,
}

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn with_client(mut form: Vec<(String, String)>, client_id: &str, auth: &ClientAuth) -> Request {
    let mut authorization = None;
    match auth {
        ClientAuth::None => form.push(("client_id".into(), client_id.into())),
        ClientAuth::Secret { secret, post: true } => {
            form.push(("client_id".into(), client_id.into()));
            form.push(("client_secret".into(), secret.clone()));
        }
        ClientAuth::Secret { secret, post: false } => {
            let pair = format!("{}:{}", form_encode_one(client_id), form_encode_one(secret));
            authorization = Some(format!("Basic {}", STANDARD.encode(pair)));
        }
        ClientAuth::Assertion(jwt) => {
            form.push(("client_id".into(), client_id.into()));
            form.push(("client_assertion_type".into(), JWT_BEARER_ASSERTION.into()));
            form.push(("client_assertion".into(), jwt.clone()));
        }
    }
    Request { form, authorization }
}

/// The token request for `grant`.
pub fn token_request(grant: Grant<'_>, client_id: &str, auth: &ClientAuth, scopes: &[String]) -> Request {
    let mut form: Vec<(String, String)> = Vec::new();
    match grant {
        Grant::ClientCredentials => form.push(("grant_type".into(), "client_credentials".into())),
        Grant::Refresh(token) => {
            form.push(("grant_type".into(), "refresh_token".into()));
            form.push(("refresh_token".into(), token.into()));
        }
        Grant::DeviceCode(code) => {
            form.push(("grant_type".into(), DEVICE_CODE_GRANT.into()));
            form.push(("device_code".into(), code.into()));
        }
    }
    if !scopes.is_empty() && !matches!(grant, Grant::DeviceCode(_)) {
        form.push(("scope".into(), scopes.join(" ")));
    }
    with_client(form, client_id, auth)
}

/// The device-authorization request (RFC 8628 section 3.1).
pub fn device_authorization_request(client_id: &str, auth: &ClientAuth, scopes: &[String]) -> Request {
    with_client(vec![("scope".into(), scopes.join(" "))], client_id, auth)
}

/// The device-authorization reply (RFC 8628 section 3.2). No `Debug`: the device code is a secret.
#[derive(Clone, serde::Deserialize)]
pub struct DeviceAuthorization {
    /// The code srgate polls with.
    pub device_code: String,
    /// The code the person types.
    pub user_code: String,
    /// Where the person types it (`verification_url` in Google's replies).
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// The same page with the code filled in, when the server offers it.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds the codes stay valid.
    pub expires_in: u64,
    /// Seconds between polls (default 5).
    #[serde(default)]
    pub interval: Option<u64>,
}

/// `application/x-www-form-urlencoded`.
pub fn form_encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", form_encode_one(k), form_encode_one(v))).collect::<Vec<_>>().join("&")
}

fn form_encode_one(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The part of a client assertion that is signed: `base64url(header).base64url(claims)`.
/// `thumbprints` are the certificate's SHA-1 and SHA-256 (`x5t`, `x5t#S256`, what
/// Microsoft finds the key by); `jti` must be new for every assertion.
pub fn assertion_signing_input(client_id: &str, audience: &str, thumbprints: (&[u8], &[u8]), jti: &str, now: Timestamp) -> String {
    let header = serde_json::json!({
        "alg": "RS256",
        "typ": "JWT",
        "x5t": URL_SAFE_NO_PAD.encode(thumbprints.0),
        "x5t#S256": URL_SAFE_NO_PAD.encode(thumbprints.1),
    });
    let t = now.as_second();
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": jti,
        "iat": t,
        "nbf": t,
        "exp": t + 300,
    });
    format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// The compact JWT: the signing input and its signature.
pub fn assertion(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(r: &'a Request, key: &str) -> Option<&'a str> {
        r.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_secret_goes_in_a_basic_header_encoded_as_rfc_6749_says_or_in_the_form() {
        let basic = token_request(Grant::ClientCredentials, "app:1", &ClientAuth::Secret { secret: "s e/c".into(), post: false }, &[]);
        assert_eq!(basic.authorization.as_deref(), Some(format!("Basic {}", STANDARD.encode("app%3A1:s+e%2Fc")).as_str()));
        assert_eq!(value(&basic, "client_secret"), None);
        let post =
            token_request(Grant::Refresh("r"), "app", &ClientAuth::Secret { secret: "s".into(), post: true }, &["a".into(), "b".into()]);
        assert_eq!(
            (value(&post, "client_secret"), value(&post, "scope"), value(&post, "refresh_token")),
            (Some("s"), Some("a b"), Some("r"))
        );
        assert_eq!(form_encode(&[("a b".into(), "x&y=z".into())]), "a+b=x%26y%3Dz");
    }

    #[test]
    fn an_assertion_names_the_client_the_audience_and_the_certificate() {
        let input = assertion_signing_input("app", "https://t/token", (&[1, 2], &[3]), "j1", Timestamp::UNIX_EPOCH);
        let (header, claims) = input.split_once('.').expect("two parts");
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
        assert_eq!(header["x5t"], "AQI");
        assert_eq!(
            (claims["aud"].as_str(), claims["sub"].as_str(), claims["exp"].as_i64()),
            (Some("https://t/token"), Some("app"), Some(300))
        );
    }
}
