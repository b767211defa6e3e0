//! What a file really is, from its first bytes (never from its name), and whether an image ends
//! where its format says it does.

/// A format Rookery accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// ISO base media (MP4, MOV, M4A, 3GP): video or audio, ffprobe tells which.
    IsoMedia,
    /// Matroska / WebM.
    Matroska,
    Ogg,
    Mp3,
    Wav,
    Flac,
}

impl Format {
    pub fn is_image(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::Gif | Format::Webp
        )
    }

    /// Human name for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "a JPEG image",
            Format::Png => "a PNG image",
            Format::Gif => "a GIF image",
            Format::Webp => "a WebP image",
            Format::IsoMedia => "an MP4/MOV file",
            Format::Matroska => "a WebM/Matroska file",
            Format::Ogg => "an Ogg file",
            Format::Mp3 => "an MP3 file",
            Format::Wav => "a WAV file",
            Format::Flac => "a FLAC file",
        }
    }

    /// Whether a client's declared content type (or a file name's extension, as its type) can
    /// describe this format.
    fn accepts_declared(self, declared: &str) -> bool {
        match declared {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => self == Format::Jpeg,
            "image/png" | "image/apng" => self == Format::Png,
            "image/gif" => self == Format::Gif,
            "image/webp" => self == Format::Webp,
            t if t.starts_with("image/") => self.is_image(),
            t if t.starts_with("video/") || t.starts_with("audio/") => !self.is_image(),
            // application/octet-stream and the like: the content decides.
            _ => true,
        }
    }
}

/// The format of a file starting with `head` (its first 64 bytes are enough), if accepted.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let at = |i: usize, m: &[u8]| head.len() >= i + m.len() && &head[i..i + m.len()] == m;
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some(Format::Gif)
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some(Format::Webp)
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(Format::Wav)
    } else if at(4, b"ftyp") {
        Some(Format::IsoMedia)
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(Format::Matroska)
    } else if at(0, b"OggS") {
        Some(Format::Ogg)
    } else if at(0, b"fLaC") {
        Some(Format::Flac)
    } else if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some(Format::Mp3)
    } else {
        None
    }
}

/// Refuses a file whose declared content type or file-name extension names another format than
/// its content: `Err` carries the message shown to the client.
pub fn check_declared(
    format: Format,
    content_type: Option<&str>,
    file_name: Option<&str>,
) -> Result<(), String> {
    if let Some(t) = content_type {
        let t = t
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !format.accepts_declared(&t) {
            return Err(format!("The file is {} but was sent as {t}", format.name()));
        }
    }
    if let Some(ext) = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        && let Some(t) = type_of_extension(&ext)
        && !format.accepts_declared(t)
    {
        return Err(format!(
            "The file is {} but its name ends in .{ext}",
            format.name()
        ));
    }
    Ok(())
}

fn type_of_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "jpg" | "jpeg" | "jpe" | "jfif" => "image/jpeg",
        "png" | "apng" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" | "heif" | "avif" | "bmp" | "tif" | "tiff" => "image/other",
        "mp4" | "m4v" | "mov" | "webm" | "mkv" | "ogv" | "3gp" => "video/any",
        "mp3" | "m4a" | "ogg" | "oga" | "opus" | "wav" | "flac" | "aac" => "audio/any",
        _ => return None,
    })
}

/// Where the image in `bytes` ends, by walking its format's structure; `None` when the structure
/// is broken or cut short. Bytes after the end are a second file glued on (a polyglot), except for
/// an MP4 after a JPEG, which is how phones store "motion photos".
pub fn image_end(format: Format, bytes: &[u8]) -> Option<usize> {
    match format {
        Format::Jpeg => jpeg_end(bytes),
        Format::Png => png_end(bytes),
        Format::Gif => gif_end(bytes),
        Format::Webp => {
            let size = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?) as usize;
            let end = 8usize.checked_add(size)?.checked_add(size % 2)?;
            // A writer may leave out the pad byte of an odd-sized last chunk.
            (end <= bytes.len() || end - 1 == bytes.len()).then_some(end.min(bytes.len()))
        }
        _ => Some(bytes.len()),
    }
}

/// Whether the bytes after an image's end are acceptable: nothing, zero padding, or an MP4 (motion
/// photo).
pub fn trailing_is_harmless(format: Format, trailing: &[u8]) -> bool {
    trailing.iter().all(|b| *b == 0)
        || (format == Format::Jpeg && trailing.len() > 8 && &trailing[4..8] == b"ftyp")
}

fn jpeg_end(b: &[u8]) -> Option<usize> {
    let mut i = 2;
    loop {
        // Markers may be preceded by fill bytes (0xFF).
        while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        match marker {
            0xD9 => return Some(i + 2),
            0xD0..=0xD7 | 0x01 => i += 2,
            _ => {
                let len = u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]) as usize;
                if len < 2 {
                    return None;
                }
                i += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or
                    // a restart marker.
                    loop {
                        if *b.get(i)? == 0xFF {
                            let next = *b.get(i + 1)?;
                            if next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                                break;
                            }
                            i += if next == 0xFF { 1 } else { 2 };
                        } else {
                            i += 1;
                        }
                    }
                }
            }
        }
    }
}

fn png_end(b: &[u8]) -> Option<usize> {
    let mut i = 8;
    loop {
        let len = u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize;
        let kind = b.get(i + 4..i + 8)?;
        let end = i.checked_add(12)?.checked_add(len)?;
        if end > b.len() {
            return None;
        }
        if kind == b"IEND" {
            return Some(end);
        }
        i = end;
    }
}

/// Walks a GIF's blocks: the frames (image descriptors) seen, and where the trailer ends (`None`
/// when the structure is broken or cut short before it).
fn walk_gif(b: &[u8]) -> (usize, Option<usize>) {
    let skip_sub_blocks = |mut i: usize| -> Option<usize> {
        loop {
            let n = *b.get(i)? as usize;
            i += 1 + n;
            if n == 0 {
                return Some(i);
            }
        }
    };
    let colour_table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 << ((flags & 0x07) + 1)
        } else {
            0
        }
    };
    let mut frames = 0;
    let Some(&flags) = b.get(10) else {
        return (0, None);
    };
    let mut i = 13 + colour_table(flags);
    loop {
        let next = match b.get(i) {
            Some(0x3B) => return (frames, Some(i + 1)),
            Some(0x21) => skip_sub_blocks(i + 2),
            Some(0x2C) => {
                frames += 1;
                // Descriptor, local colour table, LZW minimum code size, then the image data.
                b.get(i + 9)
                    .and_then(|&local| skip_sub_blocks(i + 10 + colour_table(local) + 1))
            }
            _ => None,
        };
        match next {
            Some(n) => i = n,
            None => return (frames, None),
        }
    }
}

fn gif_end(b: &[u8]) -> Option<usize> {
    walk_gif(b).1
}

/// Frames in a GIF (image descriptors), counted without decoding; more than one is an animation.
pub fn gif_frames(b: &[u8]) -> usize {
    walk_gif(b).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a"), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom"), Some(Format::IsoMedia));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
    }

    #[test]
    fn declared_type_must_match() {
        assert!(check_declared(Format::Png, Some("image/png"), Some("a.png")).is_ok());
        assert!(check_declared(Format::Jpeg, Some("application/octet-stream"), None).is_ok());
        assert!(check_declared(Format::Jpeg, Some("image/png"), None).is_err());
        assert!(check_declared(Format::Png, Some("image/png"), Some("x.mp4")).is_err());
        assert!(check_declared(Format::IsoMedia, Some("video/mp4"), Some("clip.mov")).is_ok());
        assert!(check_declared(Format::IsoMedia, Some("image/jpeg"), None).is_err());
    }

    #[test]
    fn png_end_is_found() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&[0xAE, 0x42, 0x60, 0x82]);
        assert_eq!(png_end(&png), Some(png.len()));
        assert_eq!(png_end(&png[..png.len() - 2]), None);
    }

    #[test]
    fn gif_structure_is_walked() {
        // Header, screen descriptor without colour table, one 1×1 frame, trailer.
        let mut gif = b"GIF89a\x01\0\x01\0\0\0\0".to_vec();
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, 0x3B]);
        assert_eq!(walk_gif(&gif), (1, Some(gif.len())));
        assert_eq!(walk_gif(&gif[..gif.len() - 1]), (1, None));
    }
}
