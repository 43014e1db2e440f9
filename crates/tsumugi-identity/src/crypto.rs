//! Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA-256) of the vault.
//!
//! Envelope encryption: the vault's data key (DEK) is random, stored only wrapped under the
//! key-encryption key (KEK) from the [`KeyProvider`](tsumugi_store::KeyProvider). Every field is
//! sealed with a fresh 96-bit random nonce and the column name as associated data, so a
//! ciphertext moved to another column no longer opens.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Result};

const NONCE_LEN: usize = 12;

/// Seals and opens identifier fields.
pub(crate) struct FieldCipher {
    aead: Aes256Gcm,
}

impl FieldCipher {
    pub(crate) fn new(key: &[u8; 32]) -> FieldCipher {
        FieldCipher {
            aead: Aes256Gcm::new(key.into()),
        }
    }

    /// `nonce || ciphertext || tag`.
    pub(crate) fn seal(
        &self,
        column: &'static str,
        plain: &[u8],
        rng: &mut (dyn RngCore + Send),
    ) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("aes-gcm refused to encrypt"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub(crate) fn open(&self, column: &'static str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Decrypt { column });
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::Decrypt { column })?;
        self.aead
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: column.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Decrypt { column })
    }
}

/// Keyed digests of normalized identifiers, so records can be matched without decrypting.
pub(crate) struct BlindIndex {
    key: Zeroizing<[u8; 32]>,
}

impl BlindIndex {
    pub(crate) fn new(key: Zeroizing<[u8; 32]>) -> BlindIndex {
        BlindIndex { key }
    }

    /// 16-byte HMAC-SHA-256 of `parts` joined by a separator no normalized value contains.
    pub(crate) fn digest(&self, domain: &str, parts: &[&str]) -> Vec<u8> {
        // Key length is fixed at 32 bytes, which HMAC accepts; the error branch cannot occur.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()) else {
            return Vec::new();
        };
        mac.update(domain.as_bytes());
        for p in parts {
            mac.update(b"\x1f");
            mac.update(p.as_bytes());
        }
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn seal_open_round_trip_and_column_binding() {
        let c = FieldCipher::new(&[7u8; 32]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let s = c.seal("names", "山田 太郎".as_bytes(), &mut rng).unwrap();
        assert_eq!(&c.open("names", &s).unwrap()[..], "山田 太郎".as_bytes());
        assert!(
            c.open("addresses", &s).is_err(),
            "a value must not open under another column"
        );
        let mut t = s.clone();
        t[20] ^= 1;
        assert!(c.open("names", &t).is_err(), "tampering must be detected");
        let s2 = c.seal("names", "山田 太郎".as_bytes(), &mut rng).unwrap();
        assert_ne!(s, s2, "nonces must differ");
    }

    #[test]
    fn digests_depend_on_key_domain_and_parts() {
        let a = BlindIndex::new(Zeroizing::new([1u8; 32]));
        let b = BlindIndex::new(Zeroizing::new([2u8; 32]));
        assert_eq!(a.digest("r", &["x", "y"]), a.digest("r", &["x", "y"]));
        assert_ne!(a.digest("r", &["x", "y"]), b.digest("r", &["x", "y"]));
        assert_ne!(a.digest("r", &["x", "y"]), a.digest("s", &["x", "y"]));
        assert_ne!(a.digest("r", &["xy", ""]), a.digest("r", &["x", "y"]));
    }
}
