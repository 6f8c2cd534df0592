//! A stateful fake of the Railway GraphQL API on loopback, validating every document against the real schema.
