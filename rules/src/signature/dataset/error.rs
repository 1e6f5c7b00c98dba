//! What is wrong with a dataset file or definition.

/// What is wrong with a dataset file or definition: the file, where in it (line or
/// item), and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file cannot be read.
    #[error("cannot read `{path}`: {message}")]
    Read {
        /// The file.
        path: String,
        /// The system's error.
        message: String,
    },
    /// The file is larger than a dataset file may be.
    #[error("`{path}` is larger than {max} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        max: u64,
    },
    /// A value (or the whole text) is not what the set's type and format need.
    #[error("{}", content_text(.path, .place, .problem))]
    Content {
        /// The file, when the text came from one.
        path: Option<String>,
        /// `line 3`, `item 2`; empty for the whole text.
        place: String,
        /// What is wrong (`` `xyz` is not 32 hex digits``).
        problem: String,
    },
    /// The same set name used with two types.
    #[error("dataset `{name}` is already defined with type {had}, not {wanted}")]
    TypeClash {
        /// The set.
        name: String,
        /// Its type.
        had: &'static str,
        /// The type asked for.
        wanted: &'static str,
    },
    /// A file format other than `csv`, `json` and `ndjson`.
    #[error("unknown format `{0}`")]
    Format(String),
}

fn content_text(path: &Option<String>, place: &str, problem: &str) -> String {
    let mut s = String::new();
    if let Some(p) = path {
        s.push_str(&format!("`{p}` "));
    }
    if !place.is_empty() {
        s.push_str(place);
        s.push_str(": ");
    }
    s.push_str(problem);
    s
}

impl DatasetError {
    /// A problem of the content, not yet placed.
    pub(crate) fn content(problem: impl Into<String>) -> DatasetError {
        DatasetError::Content { path: None, place: String::new(), problem: problem.into() }
    }

    /// The same problem, at `place` (`line 3`) of the text.
    pub(crate) fn at(mut self, at: impl Into<String>) -> DatasetError {
        if let DatasetError::Content { place, .. } = &mut self {
            *place = at.into();
        }
        self
    }

    /// The same problem, in the file `p`.
    pub(crate) fn in_file(mut self, p: &str) -> DatasetError {
        if let DatasetError::Content { path, .. } = &mut self {
            *path = Some(p.to_string());
        }
        self
    }
}
