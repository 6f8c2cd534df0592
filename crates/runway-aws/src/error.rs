//! The one place AWS errors become [`runway_core::Error`]s.

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use runway_core::{Error, ErrorKind};

/// Classify an AWS error code (and HTTP status, when there was a response) as an [`ErrorKind`].
///
/// Codes are the service's exception names (`ResourceNotFoundException`, `ThrottlingException`, ...);
/// unknown codes fall back to the HTTP status.
pub fn kind_for_aws_code(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    match code.unwrap_or("") {
        "ResourceNotFoundException" | "NotFoundException" => ErrorKind::NotFound,
        "ResourceExistsException"
        | "ResourceAlreadyExistsException"
        | "OperationAbortedException"
        | "PreconditionNotMetException" => ErrorKind::Conflict,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "LimitExceededException" => ErrorKind::RateLimited { retry_after: None },
        "AccessDeniedException" | "AccessDenied" => ErrorKind::PermissionDenied,
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "InvalidClientTokenId" => ErrorKind::Unauthenticated,
        "InvalidParameterException"
        | "InvalidRequestException"
        | "ValidationException"
        | "MalformedQueryException"
        | "MalformedPolicyDocumentException"
        | "InvalidNextTokenException"
        | "DecryptionFailure"
        | "EncryptionFailure" => ErrorKind::InvalidInput,
        "InternalServiceError"
        | "InternalFailure"
        | "ServiceUnavailableException"
        | "ServiceUnavailable" => ErrorKind::Unavailable,
        "UnsupportedOperationException" => ErrorKind::Unsupported,
        _ => match status {
            Some(s) => runway_core::kind_for_http_status(s, None),
            None => ErrorKind::Provider,
        },
    }
}

/// Map any SDK error to a [`runway_core::Error`] tagged with `operation`.
///
/// The message holds the AWS code and message only (never request values); the SDK error is not kept as
/// a source because its `Debug` output carries the raw HTTP response.
pub fn map_sdk_error<E>(operation: &str, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, message) = match &err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let code = err.code();
            let kind = kind_for_aws_code(code, status);
            let msg = match (code, err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_owned(),
                (None, _) => format!(
                    "unexpected response (HTTP {})",
                    status.map_or_else(|| "?".to_owned(), |s| s.to_string())
                ),
            };
            (kind, msg)
        }
        SdkError::TimeoutError(_) => (ErrorKind::Timeout, "request timed out".to_owned()),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            (ErrorKind::Timeout, "request timed out".to_owned())
        }
        SdkError::DispatchFailure(d) if d.is_user() => (
            ErrorKind::InvalidInput,
            "request could not be sent (configuration)".to_owned(),
        ),
        SdkError::DispatchFailure(d) => (
            ErrorKind::Unavailable,
            // The connector's chain names the failure (refused, DNS, TLS); it holds no request data.
            format!(
                "cannot reach the AWS endpoint: {}",
                truncate(
                    &DisplayErrorContext(
                        d.as_connector_error()
                            .map_or(&err as &dyn std::error::Error, |c| c
                                as &dyn std::error::Error)
                    )
                    .to_string()
                )
            ),
        ),
        SdkError::ConstructionFailure(_) => (
            ErrorKind::InvalidInput,
            "request could not be built (credentials, region or parameters)".to_owned(),
        ),
        _ => (ErrorKind::Provider, "unknown SDK error".to_owned()),
    };
    Error::new(kind, message)
        .with_backend("aws")
        .with_operation(operation)
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind_for_aws_code(Some("ResourceNotFoundException"), Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_for_aws_code(Some("ResourceExistsException"), Some(400)),
            ErrorKind::Conflict
        );
        assert!(matches!(
            kind_for_aws_code(Some("ThrottlingException"), Some(400)),
            ErrorKind::RateLimited { .. }
        ));
        assert_eq!(
            kind_for_aws_code(Some("UnrecognizedClientException"), Some(400)),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            kind_for_aws_code(Some("Weird"), Some(503)),
            ErrorKind::Unavailable
        );
        assert_eq!(kind_for_aws_code(None, None), ErrorKind::Provider);
    }

    #[test]
    fn dispatch_failures_name_their_cause() {
        use aws_sdk_secretsmanager::error::ConnectorError;
        use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e: SdkError<GetSecretValueError> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let mapped = map_sdk_error("secrets.get", e);
        assert_eq!(mapped.kind(), &ErrorKind::Unavailable);
        assert!(mapped.is_retryable());
        assert!(mapped.message().contains("connection refused"), "{mapped}");
        let t: SdkError<GetSecretValueError> = SdkError::timeout_error("slow");
        assert_eq!(map_sdk_error("x", t).kind(), &ErrorKind::Timeout);
    }
}
