//! One token-endpoint request over HTTPS (ureq, blocking: callers run it on a
//! blocking thread). Proxies come from `HTTPS_PROXY`/`ALL_PROXY` as usual.

use std::time::Duration;

use crate::config::TrustedCa;
use crate::oauth::grant::{Request, form_encode};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a reply that is read.
const REPLY_LIMIT: u64 = 1024 * 1024;

/// POSTs `request` to `url`: the HTTP status and the body, or why no answer came.
pub fn post(url: &str, request: &Request, tls_ca: Option<&TrustedCa>) -> Result<(u16, String), String> {
    let mut config = ureq::Agent::config_builder().timeout_global(Some(TIMEOUT)).http_status_as_error(false).max_redirects(0);
    if let Some(ca) = tls_ca {
        let certs: Vec<ureq::tls::Certificate<'static>> =
            ca.certs.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect();
        config = config.tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build());
    }
    let agent: ureq::Agent = config.build().into();
    let mut call = agent.post(url).header("Accept", "application/json").content_type("application/x-www-form-urlencoded");
    if let Some(value) = &request.authorization {
        call = call.header("Authorization", value);
    }
    let mut reply = call.send(form_encode(&request.form)).map_err(|e| describe(url, &e))?;
    let status = reply.status().as_u16();
    let body = reply.body_mut().with_config().limit(REPLY_LIMIT).read_to_string().map_err(|e| describe(url, &e))?;
    Ok((status, body))
}

/// The error in words: the endpoint without its query, never the form.
fn describe(url: &str, e: &ureq::Error) -> String {
    let base = url.split('?').next().unwrap_or(url);
    format!("{base}: {e}")
}
