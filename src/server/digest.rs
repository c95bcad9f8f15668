//! The digests `{{file_hash(algorithm, path)}}` supports: wptserve's list (md5, sha1,
//! sha224, sha256, sha384, sha512), base64-encoded.

use base64::Engine as _;
use sha2::Digest as _;

/// The base64 digest of `content` with `algorithm`.
///
/// # Errors
///
/// When `algorithm` is not one of wptserve's.
pub(crate) fn base64_digest(algorithm: &str, content: &[u8]) -> Result<String, String> {
    let digest: Vec<u8> = match algorithm {
        "md5" => md5::Md5::digest(content).to_vec(),
        "sha1" => sha1::Sha1::digest(content).to_vec(),
        "sha224" => sha2::Sha224::digest(content).to_vec(),
        "sha256" => sha2::Sha256::digest(content).to_vec(),
        "sha384" => sha2::Sha384::digest(content).to_vec(),
        "sha512" => sha2::Sha512::digest(content).to_vec(),
        other => {
            return Err(format!(
                "unsupported hash algorithm {other:?}; supported: md5, sha1, sha224, sha256, \
                 sha384, sha512"
            ))
        }
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(digest))
}
