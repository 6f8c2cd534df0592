//! Rotators: what a rotation changes in the outside world.

pub mod api_key;
pub mod jwt;
pub mod postgres;

use rand::Rng;
use secrecy::SecretString;

/// A random password of `len` ASCII letters and digits (no quoting or SASLprep surprises).
pub fn generate_password(len: usize) -> SecretString {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let s: String = (0..len.max(16))
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    SecretString::from(s)
}
