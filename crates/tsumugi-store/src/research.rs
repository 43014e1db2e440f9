//! The research zone: Parquet files under modular encryption, keyed by opaque integers.
//!
//! Layout under the store root:
//! - `ingest/<submission>.parquet`: events as submitted, keyed by the vault's record key;
//! - `lifecourse/events-NNNNN.parquet` and `lifecourse/persons.parquet`: the linked lifecourse,
//!   keyed by person key, holding only persons whose data may be used.

mod events;
mod persons;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::encryption::decrypt::FileDecryptionProperties;
use parquet::encryption::encrypt::FileEncryptionProperties;
use parquet::file::properties::WriterProperties;

use crate::{Error, KeyName, KeyProvider, Result, SecretKey};

pub use self::events::{EventFileWriter, EventRow};
pub use self::persons::PersonRow;

/// Identifies which key version encrypted a file, so keys can rotate.
const KEY_METADATA: &[u8] = b"tsumugi-research-v1";

/// Handle on the research store's folder and key.
#[derive(Clone)]
pub struct ResearchStore {
    root: PathBuf,
    key: Arc<SecretKey>,
}

impl std::fmt::Debug for ResearchStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResearchStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl ResearchStore {
    /// Opens (creating the folders if needed) the store at `root`, with the research key.
    ///
    /// # Errors
    /// [`Error::KeyUnavailable`] or [`Error::Io`].
    pub fn open(root: &Path, keys: &dyn KeyProvider) -> Result<ResearchStore> {
        for dir in [root.join("ingest"), root.join("lifecourse")] {
            fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        Ok(ResearchStore {
            root: root.to_owned(),
            key: Arc::new(keys.key(KeyName::Research)?),
        })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The events file of one submission.
    pub fn ingest_file(&self, submission_id: i64) -> PathBuf {
        self.root
            .join("ingest")
            .join(format!("{submission_id:010}.parquet"))
    }

    /// Every submission events file, in submission order.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn ingest_files(&self) -> Result<Vec<PathBuf>> {
        list_parquet(&self.root.join("ingest"))
    }

    /// The folder of the linked lifecourse.
    pub fn lifecourse_dir(&self) -> PathBuf {
        self.root.join("lifecourse")
    }

    /// The lifecourse event files, in order.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn lifecourse_event_files(&self) -> Result<Vec<PathBuf>> {
        Ok(list_parquet(&self.lifecourse_dir())?
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("events-"))
            })
            .collect())
    }

    /// The lifecourse persons file.
    pub fn persons_file(&self) -> PathBuf {
        self.lifecourse_dir().join("persons.parquet")
    }

    /// Starts an encrypted events file at `path` (written to a temporary sibling and moved into
    /// place by [`EventFileWriter::finish`]).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Parquet`].
    pub fn event_writer(&self, path: &Path) -> Result<EventFileWriter> {
        EventFileWriter::create(path, self.writer_properties(path)?)
    }

    /// Reads an events file batch by batch; each item holds up to 64 Ki rows.
    ///
    /// # Errors
    /// [`Error::Parquet`] when the file is unreadable or the key is wrong.
    pub fn read_events(
        &self,
        path: &Path,
    ) -> Result<impl Iterator<Item = Result<Vec<EventRow>>> + use<>> {
        let reader = self.batch_reader(path)?;
        let path = path.to_owned();
        Ok(reader.map(move |batch| {
            let batch = batch.map_err(|source| Error::Arrow {
                path: path.clone(),
                source,
            })?;
            events::rows_from_batch(&batch, &path)
        }))
    }

    /// Writes the persons file (atomically).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Parquet`].
    pub fn write_persons(&self, path: &Path, rows: &[PersonRow]) -> Result<()> {
        persons::write(path, rows, self.writer_properties(path)?)
    }

    /// Reads a persons file.
    ///
    /// # Errors
    /// [`Error::Parquet`] when the file is unreadable or the key is wrong.
    pub fn read_persons(&self, path: &Path) -> Result<Vec<PersonRow>> {
        let mut out = Vec::new();
        for batch in self.batch_reader(path)? {
            let batch = batch.map_err(|source| Error::Arrow {
                path: path.to_owned(),
                source,
            })?;
            out.extend(persons::rows_from_batch(&batch, path)?);
        }
        Ok(out)
    }

    fn writer_properties(&self, path: &Path) -> Result<WriterProperties> {
        let encryption = FileEncryptionProperties::builder(self.key.to_vec())
            .with_footer_key_metadata(KEY_METADATA.to_vec())
            .build()
            .map_err(parquet_err(path))?;
        Ok(WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_max_row_group_row_count(Some(256 * 1024))
            .with_file_encryption_properties(encryption)
            .build())
    }

    fn batch_reader(
        &self,
        path: &Path,
    ) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
        let decryption = FileDecryptionProperties::builder(self.key.to_vec())
            .build()
            .map_err(parquet_err(path))?;
        let options = ArrowReaderOptions::new().with_file_decryption_properties(decryption);
        let file = File::open(path).map_err(Error::io(path))?;
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
            .and_then(|b| b.with_batch_size(64 * 1024).build())
            .map_err(parquet_err(path))
    }
}

fn parquet_err(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error {
    let path = path.to_owned();
    move |source| Error::Parquet { path, source }
}

fn list_parquet(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
