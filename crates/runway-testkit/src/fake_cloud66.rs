//! A stateful fake of the Cloud66 API v3 on loopback.
