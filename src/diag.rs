//! Diagnostics that name a file and a line.
//!
//! Config, template and (later) rule checks collect every problem in one pass
//! and report them together, ripgrep-style, as `file:line: message`.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, in words.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at a byte offset of `source` (converted to a line number).
    pub fn at_offset(file: &Path, source: &str, offset: Option<usize>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.to_path_buf(), line: offset.map(|o| line_of(source, o)), message: message.into() }
    }

    /// A diagnostic for a whole file (no line).
    pub fn in_file(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic { file: file.to_path_buf(), line: None, message: message.into() }
    }

    /// This diagnostic shown as a warning: `file:line: warning: message`.
    pub fn as_warning(&self) -> Warning<'_> {
        Warning(self)
    }
}

/// A [`Diagnostic`] displayed as a warning (something allowed but unwise).
#[derive(Debug, Clone, Copy)]
pub struct Warning<'a>(&'a Diagnostic);

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        match d.line {
            Some(line) => write!(f, "{}:{}: warning: {}", d.file.display(), line, d.message),
            None => write!(f, "{}: warning: {}", d.file.display(), d.message),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A list of diagnostics, as an error.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The 1-based line that holds byte `offset` of `source`.
pub fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}

/// A TOML error as a diagnostic: the message without toml's own snippet, at its line.
pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Diagnostic {
    let message = err.message().trim().to_string();
    Diagnostic::at_offset(file, source, err.span().map(|s| s.start), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        let src = "a\nb\nc";
        assert_eq!(line_of(src, 0), 1);
        assert_eq!(line_of(src, 2), 2);
        assert_eq!(line_of(src, 4), 3);
        assert_eq!(line_of(src, 99), 3);
    }

    #[test]
    fn warnings_say_so() {
        let d = Diagnostic::at_offset(Path::new("c.toml"), "a\nb", Some(2), "unwise");
        assert_eq!(d.as_warning().to_string(), "c.toml:2: warning: unwise");
        assert_eq!(Diagnostic::in_file(Path::new("c.toml"), "unwise").as_warning().to_string(), "c.toml: warning: unwise");
    }
}
