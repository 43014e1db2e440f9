//! The governance error type.

/// Result alias for governance operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a governance operation failed.
///
/// Messages name tables, application ids, release ids and sequence numbers — never the contents of
/// records, and never an identifier of a person. A broken audit chain is *not* an error: it is a
/// finding, reported by [`crate::verify`] in a [`crate::VerifyReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed (connection, migration, files).
    #[error("GOV0001Storage: {0}")]
    Storage(#[from] tsumugi_store::Error),
    /// The database rejected a statement or could not be reached.
    #[error("GOV0002Database: {context}: {source}")]
    Database {
        /// What was being done.
        context: &'static str,
        /// The driver's error.
        source: tsumugi_store::sqlx::Error,
    },
    /// Other writers kept winning the race for the next audit sequence number.
    #[error("GOV0003AppendContention: audit append still conflicting after {attempts} attempts")]
    AppendContention {
        /// How many times the transaction was tried.
        attempts: u32,
    },
    /// An input value is empty, too long, or malformed.
    #[error("GOV0004InvalidInput: {field}: {reason}")]
    InvalidInput {
        /// The field (or parameter) at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An application with this id was already submitted.
    #[error("GOV0005InvalidApplicationExists: application {application_id} already exists")]
    InvalidApplicationExists {
        /// The application id.
        application_id: String,
    },
    /// No application has this id.
    #[error("GOV0006InvalidApplicationNotFound: application {application_id} does not exist")]
    InvalidApplicationNotFound {
        /// The application id.
        application_id: String,
    },
    /// The committee has not approved the application (it is submitted or rejected).
    #[error("GOV0007PolicyNotApproved: application {application_id} is {status}, not approved")]
    PolicyNotApproved {
        /// The application id.
        application_id: String,
        /// Its current status.
        status: &'static str,
    },
    /// The application was already decided; a decision is final.
    #[error("GOV0008PolicyAlreadyDecided: application {application_id} is already {status}")]
    PolicyAlreadyDecided {
        /// The application id.
        application_id: String,
        /// Its current status.
        status: &'static str,
    },
    /// A release with this id is already registered.
    #[error("GOV0009InvalidReleaseExists: release {release_id} is already registered")]
    InvalidReleaseExists {
        /// The release id.
        release_id: String,
    },
    /// A stored row cannot be read back (unknown kind, bad timestamp, bad JSON): the registry was
    /// changed outside tsumugi or by an incompatible version.
    #[error("GOV0010MalformedRow: {table} row {key}: {reason}")]
    MalformedRow {
        /// The table.
        table: &'static str,
        /// The row's key (a sequence number, record id or application id).
        key: String,
        /// What cannot be read.
        reason: &'static str,
    },
    /// An impossible state was reached: this is a tsumugi bug.
    #[error("GOV0011Internal: {0} (this is a tsumugi bug)")]
    Internal(&'static str),
}

impl Error {
    /// Wraps a database error with what was being done.
    pub(crate) fn db(context: &'static str) -> impl FnOnce(tsumugi_store::sqlx::Error) -> Error {
        move |source| Error::Database { context, source }
    }

    /// Whether retrying the whole transaction may succeed (lost sequence race, busy database).
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Error::AppendContention { .. } => true,
            Error::Database {
                source: tsumugi_store::sqlx::Error::Database(e),
                ..
            } => e.code().is_some_and(|code| {
                // PostgreSQL serialization failure / deadlock; SQLite BUSY, BUSY_RECOVERY,
                // BUSY_SNAPSHOT, LOCKED, LOCKED_SHAREDCACHE.
                matches!(
                    &*code,
                    "40001" | "40P01" | "5" | "261" | "517" | "6" | "262"
                )
            }),
            _ => false,
        }
    }
}
