use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use runway_core::Event;

use super::{Journal, JournalError, decode_journal, is_finish};

/// A JSON-lines journal file: one [`Event`] per line, appended and flushed before the engine goes on.
///
/// Every append is one `write` of a whole line, so a killed process leaves at most one torn last line, which
/// [`decode_journal`] drops. With [`with_fsync`](Self::with_fsync) each line is also synced to disk (survives
/// power loss, costs a disk flush per event).
#[derive(Debug, Clone)]
pub struct FileJournal {
    path: PathBuf,
    fsync: bool,
    file: Arc<Mutex<Option<std::fs::File>>>,
}

impl FileJournal {
    /// A journal at `path` (created on first append).
    pub fn new(path: impl AsRef<Path>) -> Self {
        FileJournal {
            path: path.as_ref().to_path_buf(),
            fsync: false,
            file: Arc::new(Mutex::new(None)),
        }
    }

    /// Sync every line to disk.
    #[must_use]
    pub fn with_fsync(mut self, on: bool) -> Self {
        self.fsync = on;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Every event in the file.
    pub fn read_all(&self) -> Result<Vec<Event>, JournalError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        Ok(decode_journal(&text)?.events)
    }
}

#[async_trait]
impl Journal for FileJournal {
    async fn append(&self, event: &Event) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(event).map_err(JournalError::Encode)?;
        line.push(b'\n');
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            if let Some(dir) = self.path.parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| self.io(e))?;
            *guard = Some(f);
        }
        let f = guard.as_mut().expect("opened above");
        f.write_all(&line).map_err(|e| self.io(e))?;
        if self.fsync {
            f.sync_data().map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    async fn load(&self, run: &str) -> Result<Vec<Event>, JournalError> {
        Ok(self
            .read_all()?
            .into_iter()
            .filter(|e| e.run.as_deref() == Some(run))
            .collect())
    }

    async fn unfinished(&self) -> Result<Vec<String>, JournalError> {
        let mut started: Vec<String> = Vec::new();
        let mut finished = std::collections::BTreeSet::new();
        for e in self.read_all()? {
            let Some(run) = e.run.clone() else { continue };
            if is_finish(&e) {
                finished.insert(run);
            } else if !started.contains(&run) {
                started.push(run);
            }
        }
        Ok(started
            .into_iter()
            .filter(|r| !finished.contains(r))
            .collect())
    }
}
