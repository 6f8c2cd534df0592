//! # runway-railway
//!
//! Railway GraphQL client implementing runway's Platform, VariableStore and LogSource.
