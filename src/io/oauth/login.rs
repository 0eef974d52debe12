//! `srgate auth login CREDENTIAL`: the device flow (RFC 8628). srgate asks for a
//! code, prints where to enter it, polls the token endpoint while the person signs
//! in (honouring `slow_down`), and saves the tokens where the daemon finds them.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::config::{Config, Credential};
use crate::oauth::grant::{self, DeviceAuthorization, Grant};
use crate::oauth::{Flow, Refusal, TokenReply, Tokens};

use super::files::CredentialFiles;
use super::{client_auth, http};

/// Signs in for credential `name` of `config`, telling the person what to do on `out`.
/// Blocking: waits until the person has signed in, refused, or the code expired.
pub fn login(config: &Config, name: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let credential = config.credential(name).with_context(|| format!("there is no [[credential]] named `{name}`"))?;
    if credential.flow != Flow::DeviceCode {
        bail!(
            "credential `{name}` uses the {} flow: `srgate auth login` is for `flow = \"device_code\"`{}",
            credential.flow.as_str(),
            match credential.flow {
                Flow::RefreshToken => " (write the refresh token to its refresh_token_file instead)",
                _ => " (it needs no sign-in: srgate gets its tokens with the app's own secret or certificate)",
            }
        );
    }
    let url = credential.device_authorization_url.as_deref().context("no device_authorization_url")?;
    let now = crate::time::wall_now();
    let auth = client_auth(credential, now).map_err(|r| anyhow::anyhow!(r.describe()))?;
    let request = grant::device_authorization_request(&credential.client_id, &auth, &credential.scopes);
    let (status, body) = http::post(url, &request, credential.tls_ca.as_ref()).map_err(anyhow::Error::msg)?;
    if status != 200 {
        bail!("the device authorization endpoint {}", Refusal::from_reply(status, &body).describe());
    }
    let device: DeviceAuthorization = serde_json::from_str(&body).context("the device authorization endpoint answered without a code")?;
    writeln!(out, "To sign in for credential `{name}`, open {} and enter the code {}", device.verification_uri, device.user_code)?;
    if let Some(complete) = &device.verification_uri_complete {
        writeln!(out, "(or open {complete})")?;
    }
    writeln!(out, "Waiting for the sign-in (the code is valid for {} minutes)…", device.expires_in.div_ceil(60))?;
    out.flush()?;
    let tokens = poll(credential, &device)?;
    let files = CredentialFiles::new(&config.credentials_dir(), name);
    files.write(&files.tokens(), &tokens).map_err(anyhow::Error::msg)?;
    writeln!(out, "Signed in. The refresh token is saved in {} (0600); a running srgate uses it at once.", files.tokens().display())?;
    Ok(())
}

/// Polls until the person has signed in.
fn poll(credential: &Credential, device: &DeviceAuthorization) -> anyhow::Result<Tokens> {
    let mut interval = Duration::from_secs(device.interval.unwrap_or(5).clamp(1, 60));
    let (started, valid_for) = (crate::time::Stopwatch::start(), device.expires_in.min(3600) as f64);
    loop {
        std::thread::sleep(interval);
        if started.seconds() >= valid_for {
            bail!("the code expired before anyone signed in: run `srgate auth login {}` again", credential.name);
        }
        let now = crate::time::wall_now();
        let auth = client_auth(credential, now).map_err(|r| anyhow::anyhow!(r.describe()))?;
        let request = grant::token_request(Grant::DeviceCode(&device.device_code), &credential.client_id, &auth, &credential.scopes);
        let (status, body) = match http::post(&credential.token_url, &request, credential.tls_ca.as_ref()) {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, "the token endpoint did not answer; trying again");
                continue;
            }
        };
        if status == 200 {
            let reply: TokenReply = serde_json::from_str(&body).context("the token endpoint answered without a token")?;
            let tokens = Tokens::default().after(reply, now);
            if tokens.refresh_token.is_none() {
                bail!("signed in, but the server gave no refresh token: add `offline_access` (or the provider's equivalent) to `scopes`");
            }
            return Ok(tokens);
        }
        let code = serde_json::from_str::<grant_error::Code>(&body).map(|c| c.error).unwrap_or_default();
        match code.as_str() {
            "authorization_pending" => {}
            "slow_down" => interval += Duration::from_secs(5),
            _ => bail!("sign-in failed: {}", Refusal::from_reply(status, &body).describe()),
        }
    }
}

mod grant_error {
    /// The error code of a polling reply.
    #[derive(serde::Deserialize)]
    pub(super) struct Code {
        #[serde(default)]
        pub(super) error: String,
    }
}
