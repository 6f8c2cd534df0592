//! [`AwsConfig`]: one place for endpoint, region, credentials and retry policy, shared by both clients.

use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use runway_core::{Error, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};

/// Environment variable for a custom endpoint (moto, LocalStack); `AWS_ENDPOINT_URL` also works.
pub const ENDPOINT_ENV: &str = "RUNWAY_AWS_ENDPOINT_URL";

/// Builds an [`AwsConfig`]. Unset settings fall back to the AWS SDK's default chains (environment,
/// profile, instance metadata).
pub struct AwsConfigBuilder {
    endpoint_url: Option<String>,
    region: Option<String>,
    credentials: Option<(String, SecretString, Option<SecretString>)>,
    retry: RetryPolicy,
    attempt_timeout: Duration,
}

impl fmt::Debug for AwsConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConfigBuilder")
            .field("endpoint_url", &self.endpoint_url)
            .field("region", &self.region)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(id, _, _)| id.as_str()),
            )
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

impl Default for AwsConfigBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl AwsConfigBuilder {
    /// Nothing set; the default retry policy; 30 s per attempt.
    pub fn new() -> Self {
        AwsConfigBuilder {
            endpoint_url: None,
            region: None,
            credentials: None,
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
        }
    }

    /// [`ENDPOINT_ENV`] as the endpoint when set; region and credentials from the SDK's chain.
    pub fn from_env() -> Self {
        let mut b = Self::new();
        if let Ok(url) = std::env::var(ENDPOINT_ENV)
            && !url.is_empty()
        {
            b.endpoint_url = Some(url);
        }
        b
    }

    /// Send every request to `url` (moto: `http://127.0.0.1:PORT`).
    #[must_use]
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// The region (`us-east-1`).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Static credentials.
    #[must_use]
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
    ) -> Self {
        self.credentials = Some((access_key_id.into(), secret_access_key, session_token));
        self
    }

    /// The retry policy every call goes through (the SDK's own retries are turned off).
    #[must_use]
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Timeout of one attempt.
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Validate and load (resolves region and credentials chains that are not set explicitly).
    pub async fn build(self) -> Result<AwsConfig, Error> {
        if let Some(url) = &self.endpoint_url {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url.split("://").nth(1).is_some_and(|h| !h.is_empty());
            if !ok {
                return Err(Error::invalid_input(format!(
                    "invalid AWS endpoint URL {url:?}: expected http(s)://host[:port]"
                )));
            }
        }
        if let Some(r) = &self.region
            && (r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(Error::invalid_input(format!("invalid AWS region {r:?}")));
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(self.attempt_timeout)
                    .build(),
            );
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(r) = self.region.clone() {
            loader = loader.region(aws_config::Region::new(r));
        }
        if let Some((id, secret, token)) = &self.credentials {
            loader = loader.credentials_provider(Credentials::new(
                id.clone(),
                secret.expose_secret().to_owned(),
                token.as_ref().map(|t| t.expose_secret().to_owned()),
                None,
                "runway",
            ));
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(Error::invalid_input(
                "no AWS region: set AWS_REGION or call with_region",
            ));
        }
        Ok(AwsConfig {
            sdk,
            retry: self.retry,
            endpoint_url: self.endpoint_url,
        })
    }
}

/// A loaded AWS configuration plus runway's retry policy.
#[derive(Clone)]
pub struct AwsConfig {
    pub(crate) sdk: aws_config::SdkConfig,
    pub(crate) retry: RetryPolicy,
    endpoint_url: Option<String>,
}

impl fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConfig")
            .field("region", &self.sdk.region().map(|r| r.as_ref().to_owned()))
            .field("endpoint_url", &self.endpoint_url)
            .field("retry", &self.retry)
            .finish()
    }
}

impl AwsConfig {
    /// A builder.
    pub fn builder() -> AwsConfigBuilder {
        AwsConfigBuilder::new()
    }

    /// The SDK configuration (to build other AWS clients from the same settings).
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
}
