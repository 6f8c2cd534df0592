//! # runway-cloud66
//!
//! Cloud66 API v3 client implementing runway's Platform and VariableStore.
