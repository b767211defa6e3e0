//! Still images: decoded within limits, turned upright, re-encoded without any metadata (EXIF, GPS,
//! XMP, comments are never copied), a small preview and a blurhash.
//!
//! Output formats: JPEG stays JPEG; PNG and static GIF become PNG; WebP becomes JPEG, or PNG when
//! it has transparency (the `image` crate writes only lossless WebP, which would be larger).

use std::io::Cursor;

use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use serde_json::{Value, json};

use super::MediaError;
use super::sniff::{self, Format};

/// Largest stored original, in pixels (Mastodon's 3840×2160 area); bigger images are scaled down.
pub const MAX_STORED_PIXELS: u64 = 3840 * 2160;
/// Area of the preview (`small`), in pixels (Mastodon's 640×360).
pub const PREVIEW_PIXELS: u64 = 640 * 360;
/// JPEG quality of stored images.
const JPEG_QUALITY: u8 = 85;

/// An encoded image and its size.
#[derive(Clone, Debug)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// `jpg` or `png`.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// An image ready to store.
#[derive(Clone, Debug)]
pub struct Processed {
    pub original: Encoded,
    pub small: Encoded,
    pub blurhash: String,
}

impl Processed {
    /// Mastodon's `meta` (`original` and `small` sizes; `focus` is added when rendering).
    pub fn meta(&self) -> Value {
        json!({ "original": size_meta(self.original.width, self.original.height),
                "small": size_meta(self.small.width, self.small.height) })
    }
}

/// `{width, height, size: "WxH", aspect}` as in Mastodon's attachment `meta`.
pub fn size_meta(width: u32, height: u32) -> Value {
    json!({
        "width": width,
        "height": height,
        "size": format!("{width}x{height}"),
        "aspect": width as f64 / height.max(1) as f64,
    })
}

/// Processes the image in `bytes` (already sniffed as `format`).
///
/// Errors ([`MediaError::Invalid`], shown to the client): more than `max_pixels` pixels, cut short or
/// corrupt, another file glued after the image, or undecodable.
pub fn process(bytes: &[u8], format: Format, max_pixels: u64) -> Result<Processed, MediaError> {
    let img = decode(bytes, format, max_pixels)?;
    let alpha = img.color().has_alpha();
    let keep_png = matches!(format, Format::Png | Format::Gif) || alpha;
    let original_img = fit(&img, MAX_STORED_PIXELS)?;
    finish(original_img, keep_png, alpha)
}

/// As [`process`], centre-cropped to the aspect ratio of `size` and scaled down to fit it (avatars
/// and headers).
pub fn process_cropped(
    bytes: &[u8],
    format: Format,
    max_pixels: u64,
    size: (u32, u32),
) -> Result<Processed, MediaError> {
    let img = decode(bytes, format, max_pixels)?;
    let alpha = img.color().has_alpha();
    let keep_png = matches!(format, Format::Png | Format::Gif) || alpha;
    let (w, h) = (img.width() as u64, img.height() as u64);
    let (tw, th) = (size.0 as u64, size.1 as u64);
    // The largest centred box of the target's aspect ratio.
    let (cw, ch) = if w * th > h * tw {
        (h * tw / th, h)
    } else {
        (w, w * th / tw)
    };
    let (cw, ch) = (cw.max(1) as u32, ch.max(1) as u32);
    let cropped = img.crop_imm((img.width() - cw) / 2, (img.height() - ch) / 2, cw, ch);
    let out = if cw > size.0 {
        resize(&cropped, size.0, size.1)?
    } else {
        cropped
    };
    finish(out, keep_png, alpha)
}

fn finish(original: DynamicImage, keep_png: bool, alpha: bool) -> Result<Processed, MediaError> {
    let small_img = fit(&original, PREVIEW_PIXELS)?;
    let blurhash = blurhash_of(&small_img)?;
    Ok(Processed {
        original: encode(&original, keep_png)?,
        small: encode(&small_img, alpha)?,
        blurhash,
    })
}

/// Decodes an image after checking its structure and size, upright, as 8-bit RGB or RGBA.
fn decode(bytes: &[u8], format: Format, max_pixels: u64) -> Result<DynamicImage, MediaError> {
    let end = sniff::image_end(format, bytes).ok_or_else(|| {
        MediaError::Invalid(format!("is {} that is cut short or corrupt", format.name()))
    })?;
    if !sniff::trailing_is_harmless(format, &bytes[end..]) {
        return Err(MediaError::Invalid(format!(
            "is {} with {} bytes of another file appended",
            format.name(),
            bytes.len() - end
        )));
    }
    let image_format = match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Gif => ImageFormat::Gif,
        Format::Webp => ImageFormat::WebP,
        _ => return Err(MediaError::Invalid("is not an image".into())),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), image_format)
        .into_dimensions()
        .map_err(|e| MediaError::Invalid(format!("cannot be read as an image: {e}")))?;
    let pixels = width as u64 * height as u64;
    if pixels > max_pixels || width == 0 || height == 0 {
        return Err(MediaError::Invalid(format!(
            "is {width}×{height} pixels; at most {max_pixels} pixels are accepted"
        )));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // Room for the decoded frame in 16-bit RGBA, and nothing like a bomb's worth more.
    limits.max_alloc = Some(pixels.saturating_mul(8).saturating_add(64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::Invalid(format!("cannot be decoded: {e}")))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| MediaError::Invalid(format!("cannot be decoded: {e}")))?;
    img.apply_orientation(orientation);
    Ok(if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.into_rgb8())
    })
}

/// The image scaled down (never up) to at most `max_pixels`, keeping its aspect ratio.
fn fit(img: &DynamicImage, max_pixels: u64) -> Result<DynamicImage, MediaError> {
    let (w, h) = (img.width(), img.height());
    let area = w as u64 * h as u64;
    if area <= max_pixels {
        return Ok(img.clone());
    }
    let scale = (max_pixels as f64 / area as f64).sqrt();
    let nw = ((w as f64 * scale).floor() as u32).max(1);
    let nh = ((h as f64 * scale).floor() as u32).max(1);
    resize(img, nw, nh)
}

fn resize(img: &DynamicImage, w: u32, h: u32) -> Result<DynamicImage, MediaError> {
    let mut dst = DynamicImage::new(w, h, img.color());
    Resizer::new()
        .resize(
            img,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(
                fast_image_resize::FilterType::Lanczos3,
            )),
        )
        .map_err(|e| MediaError::Internal(format!("resizing: {e}")))?;
    Ok(dst)
}

fn encode(img: &DynamicImage, png: bool) -> Result<Encoded, MediaError> {
    let mut out = Cursor::new(Vec::new());
    let (content_type, extension) = if png {
        img.write_to(&mut out, ImageFormat::Png)
            .map_err(|e| MediaError::Internal(format!("encoding PNG: {e}")))?;
        ("image/png", "png")
    } else {
        let rgb = img.to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .encode_image(&rgb)
            .map_err(|e| MediaError::Internal(format!("encoding JPEG: {e}")))?;
        ("image/jpeg", "jpg")
    };
    Ok(Encoded {
        bytes: out.into_inner(),
        content_type,
        extension,
        width: img.width(),
        height: img.height(),
    })
}

/// Blurhash with Mastodon's 4×4 components, computed on a copy at most 64 pixels wide (the hash
/// keeps only the lowest frequencies, so more pixels change nothing but the time).
pub fn blurhash_of(img: &DynamicImage) -> Result<String, MediaError> {
    let tiny = if img.width() > 64 || img.height() > 64 {
        let scale = 64.0 / img.width().max(img.height()) as f64;
        resize(
            img,
            ((img.width() as f64 * scale) as u32).max(1),
            ((img.height() as f64 * scale) as u32).max(1),
        )?
    } else {
        img.clone()
    };
    let rgba = tiny.to_rgba8();
    blurhash::encode(4, 4, rgba.width(), rgba.height(), rgba.as_raw())
        .map_err(|e| MediaError::Internal(format!("blurhash: {e:?}")))
}

/// Preview and blurhash of a video's poster frame (a JPEG or PNG written by ffmpeg).
pub fn poster(bytes: &[u8]) -> Result<(Encoded, String), MediaError> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| MediaError::Internal(format!("reading the poster frame: {e}")))?;
    let img = DynamicImage::ImageRgb8(img.into_rgb8());
    let small = fit(&img, PREVIEW_PIXELS)?;
    let hash = blurhash_of(&small)?;
    Ok((encode(&small, false)?, hash))
}

/// A blurhash from a remote server is kept only when it looks like one (base83, 6 to 100 chars).
pub fn valid_blurhash(s: &str) -> bool {
    const B83: &str =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
    (6..=100).contains(&s.len()) && s.chars().all(|c| B83.contains(c))
}
