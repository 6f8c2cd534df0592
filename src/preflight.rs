//! The pre-deployment checklist as checks.
