//! End-to-end tests of the runway facade. The tests are this package's test targets (`release`,
//! `preflight`, `diagnose`); the library itself is empty.
