//! The migration safety linter.
