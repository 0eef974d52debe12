//! Span-aware helpers for the rule and policy files.
//!
//! Both files are parsed with spans (`toml::de::DeTable`) and walked key by
//! key, so that each problem is reported at its own line and one bad value
//! does not hide the next: the technique of [`crate::config`].

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::{Diagnostic, from_toml, line_of};

/// A byte range of the source.
pub(crate) type Span = Range<usize>;

/// Collects the diagnostics of one file.
pub(crate) struct Sink<'a> {
    /// The file, for diagnostics.
    pub path: &'a Path,
    /// Its text, to turn offsets into lines.
    pub source: &'a str,
    /// Everything found so far.
    pub errors: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    /// A sink for `path` whose text is `source`.
    pub fn new(path: &'a Path, source: &'a str) -> Self {
        Sink { path, source, errors: Vec::new() }
    }

    /// Records a problem at `span`.
    pub fn error(&mut self, span: &Span, message: impl Into<String>) {
        self.errors.push(Diagnostic::at_offset(self.path, self.source, Some(span.start), message));
    }

    /// Parses the whole document, recording every syntax error.
    pub fn parse(&mut self) -> Option<Spanned<DeTable<'a>>> {
        let (doc, errors) = DeTable::parse_recoverable(self.source);
        if errors.is_empty() {
            return Some(doc);
        }
        for e in &errors {
            self.errors.push(from_toml(self.path, self.source, e));
        }
        None
    }

    /// Deserializes one value, recording its error (with line) on failure.
    pub fn value<T: DeserializeOwned>(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(v) => Some(v),
            Err(e) => {
                let mut d = from_toml(self.path, self.source, &e);
                d.message = format!("`{key}`: {}", d.message);
                if d.line.is_none() {
                    d.line = Some(line_of(self.source, value.span().start));
                }
                self.errors.push(d);
                None
            }
        }
    }

    /// The value as a table, or an error.
    pub fn table<'v, 'i>(&mut self, key: &str, value: &'v Spanned<DeValue<'i>>) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.error(&value.span(), format!("`{key}` must be a table"));
                None
            }
        }
    }

    /// A string or an array of strings, each with its span.
    pub fn strings(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Vec<(String, Span)> {
        match value.get_ref() {
            DeValue::String(s) => vec![(s.to_string(), value.span())],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.to_string(), item.span())),
                        _ => self.error(&item.span(), format!("`{key}`: expected a string")),
                    }
                }
                out
            }
            _ => {
                self.error(&value.span(), format!("`{key}`: expected a string or an array of strings"));
                Vec::new()
            }
        }
    }
}
