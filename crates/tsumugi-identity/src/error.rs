//! The identity zone's error type. Messages never contain identifier values.

/// Result alias for the identity zone.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an identity-zone operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage failed (database, keys).
    #[error(transparent)]
    Store(#[from] tsumugi_store::Error),
    /// A vault statement failed.
    #[error("IDN0001Vault: {context}: {source}")]
    Vault {
        /// What was being done.
        context: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A ciphertext did not decrypt: wrong key or tampered vault.
    #[error(
        "IDN0002Decrypt: a {column} value does not decrypt with the vault key (wrong key or tampering)"
    )]
    Decrypt {
        /// The vault column.
        column: &'static str,
    },
    /// A stop request is malformed.
    #[error("IDN0003InvalidStopRequest: request {request_id}: {reason}")]
    InvalidStopRequest {
        /// The request's own id.
        request_id: String,
        /// What is missing or wrong (never the value).
        reason: &'static str,
    },
    /// A clerical-review decision names records that cannot be decided on.
    #[error("IDN0004InvalidReview: {reason}")]
    InvalidReview {
        /// What is wrong.
        reason: &'static str,
    },
    /// A state the code should make impossible.
    #[error("IDN0099Internal: {0} (this is a tsumugi bug)")]
    Internal(&'static str),
}

impl Error {
    pub(crate) fn vault(context: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |source| Error::Vault { context, source }
    }
}
