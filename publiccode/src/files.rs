//! Files a publiccode.yml refers to: `logo`, `monochromeLogo`,
//! `description.*.screenshots`, `legal.authorsFile`.
//!
//! Each must be a relative path or an HTTP(S) URL. A URL needs the network
//! to check and is not checked. A relative path's extension is checked
//! always; whether the file exists (and, for a PNG logo, is a PNG) only when
//! the caller gives the directory of the publiccode.yml. A path that leaves
//! that directory (`../x.png`, or a link pointing out of it) is not read:
//! a warning says it was not checked.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::Severity;
use crate::syntax;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `.svg`, `.svgz` or `.png`; a PNG must have a valid header.
    Logo,
    /// `.jpg` or `.png`.
    Screenshot,
    /// Any file.
    Authors,
}

impl FileKind {
    fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Logo => &["svg", "svgz", "png"],
            FileKind::Screenshot => &["jpg", "png"],
            FileKind::Authors => &[],
        }
    }
}

/// What is wrong with the reference `value`, a `kind` of file, resolved
/// against `base` when given.
pub(crate) fn check(value: &str, kind: FileKind, base: Option<&Path>) -> Vec<(Severity, String)> {
    let error = |message: String| vec![(Severity::Error, message)];
    if value.starts_with('/') {
        return error("is an absolute path. Only relative paths or HTTP(s) URLs allowed".to_owned());
    }
    if value.starts_with("file:") {
        return error("is a file:// URL. Only relative paths or HTTP(s) URLs allowed".to_owned());
    }
    if syntax::parse_url(value, true).is_some() {
        // An absolute URL: checking it needs the network.
        return Vec::new();
    }
    let extensions = kind.extensions();
    if !extensions.is_empty() {
        let extension = Path::new(value)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !extensions.contains(&extension.as_str()) {
            return error(format!(
                "invalid file extension for: {value} (allowed: {})",
                extensions
                    .iter()
                    .map(|e| format!(".{e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let Some(base) = base else { return Vec::new() };
    let Some(relative) = inside(value) else {
        return vec![(
            Severity::Warning,
            format!("'{value}' was not checked: it leaves the directory of the publiccode.yml"),
        )];
    };
    let path = base.join(&relative);
    let shown = path.display();
    let Ok(metadata) = std::fs::metadata(&path) else {
        return error(format!("no such file: {shown}"));
    };
    if let (Ok(real), Ok(real_base)) = (path.canonicalize(), base.canonicalize())
        && !real.starts_with(&real_base)
    {
        return vec![(
            Severity::Warning,
            format!("'{value}' was not checked: it links out of the directory of the publiccode.yml"),
        )];
    }
    if !metadata.is_file() {
        return error(format!("not a file: {shown}"));
    }
    if kind == FileKind::Logo && value.to_ascii_lowercase().ends_with(".png") {
        let mut header = Vec::with_capacity(PNG_HEADER_LEN);
        let read = std::fs::File::open(&path).and_then(|f| f.take(PNG_HEADER_LEN as u64).read_to_end(&mut header));
        if let Err(e) = read {
            return error(format!("cannot read {shown}: {e}"));
        }
        if let Err(problem) = png_header(&header) {
            return error(problem.to_owned());
        }
    }
    Vec::new()
}

/// `value` as a path that stays inside the directory it is relative to.
fn inside(value: &str) -> Option<PathBuf> {
    let mut parts = Vec::new();
    for component in Path::new(value).components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Signature, then the IHDR chunk: length, type, 13 bytes of data, CRC.
const PNG_HEADER_LEN: usize = 8 + 4 + 4 + 13 + 4;

/// Checks the start of a PNG file: its signature and a sound IHDR chunk.
fn png_header(bytes: &[u8]) -> Result<(), &'static str> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err("image: unknown format (not a PNG file)");
    }
    if bytes.len() < PNG_HEADER_LEN {
        return Err("png: invalid format: the file ends inside its header");
    }
    let be32 = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if be32(8) != 13 || &bytes[12..16] != b"IHDR" {
        return Err("png: invalid format: the first chunk is not a 13-byte IHDR");
    }
    if crc32(&bytes[12..29]) != be32(29) {
        return Err("png: invalid format: the IHDR chunk's checksum does not match");
    }
    let (width, height, depth, colour) = (be32(16), be32(20), bytes[24], bytes[25]);
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err("png: invalid format: the image has no width or height");
    }
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !depth_ok {
        return Err("png: invalid format: bad bit depth or colour type");
    }
    Ok(())
}

/// CRC-32 (ISO 3309, as PNG uses).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 grey PNG header (signature and IHDR).
    fn tiny_png() -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&13u32.to_be_bytes());
        let chunk = [
            b"IHDR".as_slice(),
            &1u32.to_be_bytes(),
            &1u32.to_be_bytes(),
            &[8, 0, 0, 0, 0],
        ]
        .concat();
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
        png
    }

    #[test]
    fn png_headers() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(png_header(&tiny_png()), Ok(()));
        let mut broken = tiny_png();
        broken[20] ^= 1;
        assert!(png_header(&broken).is_err());
        assert!(png_header(b"<svg/>").unwrap_err().starts_with("image: unknown format"));
        assert!(png_header(&tiny_png()[..20]).is_err());
    }

    #[test]
    fn references_without_a_directory_check_only_their_text() {
        assert_eq!(check("/etc/logo.png", FileKind::Logo, None).len(), 1);
        assert_eq!(check("file:///etc/logo.png", FileKind::Logo, None).len(), 1);
        assert_eq!(check("logo.mpg", FileKind::Logo, None).len(), 1);
        assert!(check("img/logo.PNG", FileKind::Logo, None).is_empty());
        assert!(check("https://example.org/logo.gif", FileKind::Logo, None).is_empty());
        assert!(check("AUTHORS", FileKind::Authors, None).is_empty());
        assert_eq!(check("shot.jpeg", FileKind::Screenshot, None).len(), 1);
    }

    #[test]
    fn references_resolve_inside_the_directory_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("img")).unwrap();
        std::fs::write(dir.path().join("img/logo.png"), tiny_png()).unwrap();
        std::fs::write(dir.path().join("img/fake.png"), b"GIF89a").unwrap();
        std::fs::write(dir.path().join("logo.svg"), b"<svg/>").unwrap();
        let base = Some(dir.path());
        assert!(check("img/logo.png", FileKind::Logo, base).is_empty());
        assert!(check("./img/../logo.svg", FileKind::Logo, base).is_empty());
        let missing = check("img/none.png", FileKind::Logo, base);
        assert!(missing[0].1.starts_with("no such file: "), "{missing:?}");
        let fake = check("img/fake.png", FileKind::Logo, base);
        assert!(fake[0].1.starts_with("image: unknown format"), "{fake:?}");
        let outside = check("../logo.png", FileKind::Logo, base);
        assert_eq!(outside[0].0, Severity::Warning);
        assert!(check("img", FileKind::Authors, base)[0].1.starts_with("not a file"));
    }
}
