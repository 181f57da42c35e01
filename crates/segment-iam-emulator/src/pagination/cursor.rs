//! Opaque cursors: a position in one list, authenticated with a keyed MAC.
//!
//! The position is authenticated with a keyed MAC (SipHash-2-4 twice, 128 bits, under a
//! random per-emulator key), then the 17-byte position and the 16-byte tag are written in
//! standard base64 — so cursors carry `+`, `/` and `=` and a client that forgets to
//! percent-encode them breaks, as it would against the live service. A client cannot guess,
//! compute or alter a cursor; an unknown or tampered one is a 422.

#![allow(deprecated)] // std::hash::SipHasher: a stable, keyed SipHash-2-4, exactly what a MAC needs.

use std::hash::{Hasher, SipHasher};

/// Which list a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ListKind {
    /// `list_users`.
    Users = 1,
    /// `list_invites`.
    Invites = 2,
    /// `list_user_groups`.
    Groups = 3,
    /// `list_user_groups_from_user`.
    GroupsOfUser = 4,
    /// `list_users_from_user_group`.
    UsersOfGroup = 5,
    /// `list_invites_from_user_group`.
    InvitesOfGroup = 6,
    /// `list_roles`.
    Roles = 7,
    /// `list_sources`.
    Sources = 8,
    /// `list_audit_events` (newest first: positions count down from the newest event).
    AuditEvents = 9,
}

/// A decoded cursor: the page starts after sequence number `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The list.
    pub kind: ListKind,
    /// The owning user or group sequence number, 0 for workspace-wide lists.
    pub scope: u64,
    /// The page holds items whose sequence number is greater than this.
    pub after: u64,
}

/// Encodes and checks cursors under one secret key.
#[derive(Clone)]
pub struct CursorCodec {
    keys: [(u64, u64); 2],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { .. }")
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| B64.iter().position(|&x| x == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (i, q) in s.chunks(4).enumerate() {
        let last = i + 1 == s.len() / 4;
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (j, &c) in q.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { val(c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

impl CursorCodec {
    /// A codec with a fresh random key.
    pub fn random() -> Self {
        let k: [u64; 4] = rand::random();
        Self {
            keys: [(k[0], k[1]), (k[2], k[3])],
        }
    }

    fn tag(&self, payload: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, (k0, k1)) in self.keys.iter().enumerate() {
            let mut h = SipHasher::new_with_keys(*k0, *k1);
            h.write(payload);
            out[i * 8..i * 8 + 8].copy_from_slice(&h.finish().to_le_bytes());
        }
        out
    }

    /// The cursor of a position.
    pub fn encode(&self, pos: Position) -> String {
        let mut buf = Vec::with_capacity(33);
        buf.push(pos.kind as u8);
        buf.extend_from_slice(&pos.scope.to_be_bytes());
        buf.extend_from_slice(&pos.after.to_be_bytes());
        let tag = self.tag(&buf);
        buf.extend_from_slice(&tag);
        b64_encode(&buf)
    }

    /// Checks a cursor and returns its position if it is genuine and belongs to the list
    /// `kind` with scope `scope`.
    pub fn decode(&self, cursor: &str, kind: ListKind, scope: u64) -> Option<Position> {
        let bytes = b64_decode(cursor)?;
        if bytes.len() != 33 {
            return None;
        }
        let (payload, tag) = bytes.split_at(17);
        // Constant-time comparison is not needed for a local emulator, but is cheap.
        let expected = self.tag(payload);
        if expected
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
        {
            return None;
        }
        if payload[0] != kind as u8 {
            return None;
        }
        let scope_got = u64::from_be_bytes(payload[1..9].try_into().ok()?);
        let after = u64::from_be_bytes(payload[9..17].try_into().ok()?);
        (scope_got == scope).then_some(Position { kind, scope, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_refuses_bad_padding() {
        for n in 0..40 {
            let v: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(b64_decode(&b64_encode(&v)), Some(v));
        }
        assert_eq!(b64_encode(b"0"), "MA==");
        assert_eq!(b64_decode("MA=="), Some(b"0".to_vec()));
        assert_eq!(b64_decode("M==="), None);
        assert_eq!(b64_decode("MA=a"), None);
    }

    #[test]
    fn cursors_round_trip_and_any_tampering_is_refused() {
        let c = CursorCodec::random();
        let pos = Position {
            kind: ListKind::Users,
            scope: 0,
            after: 12345,
        };
        let s = c.encode(pos);
        assert_eq!(c.decode(&s, ListKind::Users, 0), Some(pos));
        assert_eq!(c.decode(&s, ListKind::Invites, 0), None);
        assert_eq!(c.decode(&s, ListKind::Users, 1), None);
        // Another emulator's key does not accept it.
        assert_eq!(CursorCodec::random().decode(&s, ListKind::Users, 0), None);
        // Flip every character in turn.
        let bytes = s.as_bytes();
        for i in 0..bytes.len() {
            let mut t = bytes.to_vec();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).expect("ascii");
            assert_eq!(c.decode(&t, ListKind::Users, 0), None, "tampered at {i}");
        }
        assert_eq!(c.decode("MA==", ListKind::Users, 0), None);
        assert_eq!(c.decode("", ListKind::Users, 0), None);
        assert_eq!(c.decode("\u{1F600}", ListKind::Users, 0), None);
    }
}
