//! The identity providers srgate knows by name, and the three ways it gets a token.
//!
//! `microsoft` and `google` fill in the token and device-authorization endpoints
//! and the scopes that open IMAP and SMTP; `generic` takes them from the
//! configuration (any OAuth2 authorization server).

use serde::{Deserialize, Serialize};

/// Who issues the tokens (`provider` in a `[[credential]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityProvider {
    /// Microsoft Entra ID (Microsoft 365, Exchange Online).
    Microsoft,
    /// Google (Google Workspace, Gmail).
    Google,
    /// Any other OAuth2 authorization server: endpoints and scopes from the configuration.
    Generic,
}

impl IdentityProvider {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityProvider::Microsoft => "microsoft",
            IdentityProvider::Google => "google",
            IdentityProvider::Generic => "generic",
        }
    }

    /// The token endpoint (`tenant` is Microsoft's directory: its id or domain).
    pub fn token_url(self, tenant: &str) -> Option<String> {
        match self {
            IdentityProvider::Microsoft => Some(format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")),
            IdentityProvider::Google => Some("https://oauth2.googleapis.com/token".into()),
            IdentityProvider::Generic => None,
        }
    }

    /// The device-authorization endpoint (RFC 8628).
    pub fn device_authorization_url(self, tenant: &str) -> Option<String> {
        match self {
            IdentityProvider::Microsoft => Some(format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode")),
            IdentityProvider::Google => Some("https://oauth2.googleapis.com/device/code".into()),
            IdentityProvider::Generic => None,
        }
    }

    /// The scopes that open IMAP and SMTP with a token got by `flow`.
    pub fn scopes(self, flow: Flow) -> Vec<String> {
        let list: &[&str] = match (self, flow) {
            // App-only access: the permissions granted to the app (IMAP.AccessAsApp, SMTP.SendAsApp).
            (IdentityProvider::Microsoft, Flow::ClientCredentials) => &["https://outlook.office365.com/.default"],
            (IdentityProvider::Microsoft, _) => {
                &["offline_access", "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send"]
            }
            (IdentityProvider::Google, _) => &["https://mail.google.com/"],
            (IdentityProvider::Generic, _) => &[],
        };
        list.iter().map(|s| s.to_string()).collect()
    }
}

/// How a credential gets its tokens (`flow` in a `[[credential]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// App-only access with the app's own secret or certificate; no person involved.
    ClientCredentials,
    /// A person signs in once (`srgate auth login`); srgate keeps the refresh token.
    DeviceCode,
    /// A refresh token obtained elsewhere, read from a file.
    RefreshToken,
}

impl Flow {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::ClientCredentials => "client_credentials",
            Flow::DeviceCode => "device_code",
            Flow::RefreshToken => "refresh_token",
        }
    }

    /// True when tokens come from a refresh token (device code and refresh token flows).
    pub fn uses_refresh_token(self) -> bool {
        !matches!(self, Flow::ClientCredentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_endpoints_name_the_tenant_and_app_only_access_uses_the_default_scope() {
        let ms = IdentityProvider::Microsoft;
        assert_eq!(
            ms.token_url("contoso.onmicrosoft.com").as_deref(),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        );
        assert_eq!(ms.scopes(Flow::ClientCredentials), ["https://outlook.office365.com/.default"]);
        assert!(ms.scopes(Flow::DeviceCode).contains(&"offline_access".to_string()));
        assert_eq!(IdentityProvider::Generic.token_url("x"), None);
    }
}
