//! Email addresses as the facade treats them, public so that code built on it (access-as-code,
//! jobs) checks and compares addresses exactly as the handlers and lookups do.

use crate::error::Result;
use crate::validate;

/// The key emails are compared by: trimmed and lowercase. The service's comparison is
/// undocumented, and one person must never count twice.
pub fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks an address the way every handler does before sending (loosely: the service judges
/// deliverability; this refuses what can never be an address), as a typed
/// [`Error::InvalidInput`](crate::Error::InvalidInput) naming `field`.
pub fn check(field: &str, email: &str) -> Result<()> {
    validate::email(field, email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_surrounding_space() {
        assert_eq!(key("  Ana@Example.COM "), "ana@example.com");
        assert_ne!(key("ana@example.com"), key("ana2@example.com"));
    }

    #[test]
    fn check_names_the_field_it_refuses() {
        assert!(check("email", "ana@example.com").is_ok());
        assert!(matches!(
            check("owner", "no-at-sign"),
            Err(crate::Error::InvalidInput { field, .. }) if field == "owner"
        ));
    }
}
