//! Rule files (stub).
pub(crate) mod spans;
