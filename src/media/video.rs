//! Video and audio through Debian's `ffprobe` and `ffmpeg` (run with `tokio::process`, killed if
//! they outlive their time limit).
//!
//! - Video becomes H.264 (yuv420p, even dimensions, long side at most 1920, at most 60 fps) with AAC
//!   audio in an MP4 with `faststart` (playable while downloading) and no metadata.
//! - Animated GIFs become the same without audio (`gifv`, as Mastodon).
//! - Audio becomes MP3.
//! - A poster frame (JPEG) is taken from each video for its preview and blurhash.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::MediaError;

/// What ffprobe found in a file.
#[derive(Clone, Debug, Default)]
pub struct Probe {
    /// Container names, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format_name: String,
    pub duration: f64,
    pub bit_rate: Option<u64>,
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
}

#[derive(Clone, Debug)]
pub struct VideoStream {
    pub codec: String,
    pub pix_fmt: String,
    /// Display size, rotation applied.
    pub width: u32,
    pub height: u32,
    pub fps: f64,
}

#[derive(Clone, Debug)]
pub struct AudioStream {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
}

#[derive(Deserialize)]
struct RawProbe {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    pix_fmt: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u32>,
    #[serde(default)]
    side_data_list: Vec<Value>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    bit_rate: Option<String>,
}

fn rate(s: &str) -> f64 {
    match s.split_once('/') {
        Some((n, d)) => {
            let (n, d) = (
                n.parse::<f64>().unwrap_or(0.0),
                d.parse::<f64>().unwrap_or(0.0),
            );
            if d > 0.0 { n / d } else { 0.0 }
        }
        None => s.parse().unwrap_or(0.0),
    }
}

/// ffmpeg or ffprobe could not start. Not installed: uploads of video and audio are refused with
/// a reason the uploader can read (photos still work); anything else is our failure.
fn spawn_error(e: std::io::Error) -> MediaError {
    if e.kind() == std::io::ErrorKind::NotFound {
        tracing::warn!(
            "ffmpeg/ffprobe not found on PATH: install Debian's ffmpeg for video and audio"
        );
        MediaError::Invalid(
            "is video or audio, which this server cannot process (ffmpeg is not installed)".into(),
        )
    } else {
        MediaError::Internal(format!("cannot run ffmpeg/ffprobe: {e}"))
    }
}

/// The last three lines ffmpeg wrote to stderr (newest first), for logs and failure reasons.
fn stderr_tail(stderr: &[u8]) -> String {
    let err = String::from_utf8_lossy(stderr);
    err.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
}

/// Runs a command to completion within `limit`; `Err` carries the end of its stderr.
async fn run(cmd: &mut Command, limit: Duration) -> Result<Vec<u8>, MediaError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(spawn_error)?;
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| MediaError::Internal("ffmpeg took too long".into()))?
        .map_err(|e| MediaError::Internal(format!("ffmpeg: {e}")))?;
    if !out.status.success() {
        return Err(MediaError::Failed(stderr_tail(&out.stderr)));
    }
    Ok(out.stdout)
}

/// Probes `path` with ffprobe. Errors: [`MediaError::Invalid`] when ffprobe cannot read it.
pub async fn probe(path: &Path) -> Result<Probe, MediaError> {
    let out = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(path),
        Duration::from_secs(30),
    )
    .await
    .map_err(|e| match e {
        MediaError::Failed(_) => {
            MediaError::Invalid("The file is not a readable video or audio file".into())
        }
        e => e,
    })?;
    let raw: RawProbe = serde_json::from_slice(&out)
        .map_err(|e| MediaError::Internal(format!("ffprobe's output: {e}")))?;
    let format = raw.format.as_ref();
    let mut probe = Probe {
        format_name: format
            .and_then(|f| f.format_name.clone())
            .unwrap_or_default(),
        duration: format
            .and_then(|f| f.duration.as_deref())
            .and_then(|d| d.parse().ok())
            .unwrap_or(0.0),
        bit_rate: format
            .and_then(|f| f.bit_rate.as_deref())
            .and_then(|b| b.parse().ok()),
        ..Probe::default()
    };
    for s in &raw.streams {
        match s.codec_type.as_deref() {
            // Cover art in an audio file is a "video" stream with the attached_pic disposition.
            Some("video")
                if probe.video.is_none() && s.disposition.get("attached_pic") != Some(&1) =>
            {
                let rotation = s
                    .side_data_list
                    .iter()
                    .find_map(|d| d.get("rotation").and_then(Value::as_f64))
                    .or_else(|| s.tags.get("rotate").and_then(|r| r.parse().ok()))
                    .unwrap_or(0.0);
                let (mut w, mut h) = (s.width.unwrap_or(0), s.height.unwrap_or(0));
                if (rotation.abs() - 90.0).abs() < 1.0 || (rotation.abs() - 270.0).abs() < 1.0 {
                    std::mem::swap(&mut w, &mut h);
                }
                let fps = s
                    .avg_frame_rate
                    .as_deref()
                    .map(rate)
                    .filter(|r| *r > 0.0)
                    .or_else(|| s.r_frame_rate.as_deref().map(rate))
                    .unwrap_or(0.0);
                probe.video = Some(VideoStream {
                    codec: s.codec_name.clone().unwrap_or_default(),
                    pix_fmt: s.pix_fmt.clone().unwrap_or_default(),
                    width: w,
                    height: h,
                    fps,
                });
            }
            Some("audio") if probe.audio.is_none() => {
                probe.audio = Some(AudioStream {
                    codec: s.codec_name.clone().unwrap_or_default(),
                    sample_rate: s
                        .sample_rate
                        .as_deref()
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0),
                    channels: s.channels.unwrap_or(0),
                });
            }
            _ => {}
        }
    }
    Ok(probe)
}

/// Limits a video or audio upload must meet.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_seconds: u32,
    pub max_pixels: u64,
    pub max_fps: u32,
}

/// Checks a probed upload against `limits`. `Err` carries the message shown to the client.
pub fn check(p: &Probe, limits: Limits) -> Result<(), String> {
    if p.video.is_none() && p.audio.is_none() {
        return Err("The file has neither video nor audio".into());
    }
    if (p.duration.is_nan() || p.duration <= 0.0) && p.video.is_some() {
        return Err("The video has no duration".into());
    }
    if p.duration > limits.max_seconds as f64 {
        return Err(format!(
            "The file is {:.0} seconds long; at most {} seconds are accepted",
            p.duration, limits.max_seconds
        ));
    }
    if let Some(v) = &p.video {
        if v.width == 0 || v.height == 0 {
            return Err("The video has no picture size".into());
        }
        let pixels = v.width as u64 * v.height as u64;
        if pixels > limits.max_pixels {
            return Err(format!(
                "The video is {}×{} pixels; at most {} pixels are accepted",
                v.width, v.height, limits.max_pixels
            ));
        }
        if v.fps > limits.max_fps as f64 + 0.5 {
            return Err(format!(
                "The video runs at {:.0} frames per second; at most {} are accepted",
                v.fps, limits.max_fps
            ));
        }
    }
    Ok(())
}

/// Longest side of a stored video, in pixels.
pub const MAX_SIDE: u32 = 1920;

/// The size a video of `w`×`h` is stored at: scaled down to fit [`MAX_SIDE`], even dimensions.
pub fn output_size(w: u32, h: u32) -> (u32, u32) {
    let long = w.max(h).max(1);
    let scale = (MAX_SIDE as f64 / long as f64).min(1.0);
    let even = |x: f64| ((x / 2.0).floor() as u32 * 2).max(2);
    (even(w as f64 * scale), even(h as f64 * scale))
}

/// What to make of an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Video,
    /// Silent looping video from an animated GIF.
    Gifv,
    Audio,
}

/// Whether the file can be kept as it is, only remuxed (already H.264/yuv420p + AAC in MP4, small
/// enough): much faster than transcoding.
fn can_copy(p: &Probe, target: Target) -> bool {
    let Some(v) = &p.video else { return false };
    target == Target::Video
        && p.format_name.contains("mp4")
        && v.codec == "h264"
        && v.pix_fmt == "yuv420p"
        && output_size(v.width, v.height) == (v.width, v.height)
        && v.fps <= 60.5
        && p.bit_rate.is_some_and(|b| b <= 8_000_000)
        && p.audio.as_ref().is_none_or(|a| a.codec == "aac")
}

/// Transcodes `input` into `output` (MP4 or MP3, see the module doc), calling `progress` with the
/// fraction done (0 to 1) as ffmpeg reports it.
///
/// Errors: [`MediaError::Failed`] when ffmpeg refuses the file, [`MediaError::Internal`] when it
/// cannot run or overruns its time limit (10 × the clip's length, at least 5 minutes).
pub async fn transcode(
    input: &Path,
    output: &Path,
    probe: &Probe,
    target: Target,
    mut progress: impl FnMut(f64) + Send,
) -> Result<(), MediaError> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(["-progress", "pipe:1", "-nostats"])
        .arg("-i")
        .arg(input)
        .args(["-map_metadata", "-1"]);
    match target {
        Target::Audio => {
            cmd.args(["-vn", "-c:a", "libmp3lame", "-q:a", "2", "-f", "mp3"]);
        }
        Target::Video | Target::Gifv if can_copy(probe, target) => {
            cmd.args(["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"])
                .args(["-movflags", "+faststart", "-f", "mp4"]);
        }
        Target::Video | Target::Gifv => {
            let (w, h) = probe
                .video
                .as_ref()
                .map_or((2, 2), |v| output_size(v.width, v.height));
            cmd.args(["-map", "0:v:0"])
                .args([
                    "-vf",
                    &format!("scale={w}:{h}:flags=bicubic,format=yuv420p"),
                ])
                .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"])
                .args(["-maxrate", "2500k", "-bufsize", "5000k", "-fpsmax", "60"])
                .args(["-profile:v", "high", "-level", "4.1"]);
            if target == Target::Gifv || probe.audio.is_none() {
                cmd.arg("-an");
            } else {
                cmd.args(["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]);
            }
            cmd.args(["-movflags", "+faststart", "-f", "mp4"]);
        }
    }
    cmd.arg(output)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(spawn_error)?;
    let limit = Duration::from_secs((probe.duration * 10.0).max(300.0) as u64);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stderr, &mut buf).await;
        buf
    });
    let duration_us = (probe.duration * 1_000_000.0).max(1.0);
    let work = async {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(us) = line.strip_prefix("out_time_us=")
                && let Ok(us) = us.trim().parse::<f64>()
            {
                progress((us / duration_us).clamp(0.0, 1.0));
            }
        }
        child.wait().await
    };
    let status = tokio::time::timeout(limit, work)
        .await
        .map_err(|_| MediaError::Internal("ffmpeg took too long".into()))?
        .map_err(|e| MediaError::Internal(format!("ffmpeg: {e}")))?;
    let err = err_reader.await.unwrap_or_default();
    if !status.success() {
        return Err(MediaError::Failed(stderr_tail(&err)));
    }
    Ok(())
}

/// Writes one frame of `video` (at a tenth of its length, at most 1 s in) as a JPEG to `output`.
pub async fn poster_frame(video: &Path, duration: f64, output: &Path) -> Result<(), MediaError> {
    let at = (duration / 10.0).min(1.0);
    run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
            .args(["-ss", &format!("{at:.3}")])
            .arg("-i")
            .arg(video)
            .args([
                "-frames:v",
                "1",
                "-q:v",
                "3",
                "-f",
                "image2",
                "-c:v",
                "mjpeg",
            ])
            .arg(output),
        Duration::from_secs(60),
    )
    .await
    .map(|_| ())
}

/// Mastodon's `meta` for a stored video (or gifv) of `probe` (probed after transcoding).
pub fn video_meta(p: &Probe, small: Option<(u32, u32)>) -> Value {
    let v = p.video.as_ref();
    let (w, h) = v.map_or((0, 0), |v| (v.width, v.height));
    let fps = v.map_or(0.0, |v| v.fps);
    let mut original = super::image::size_meta(w, h);
    original["frame_rate"] = json!(format!("{}/1", fps.round() as u64));
    original["duration"] = json!(round3(p.duration));
    if let Some(b) = p.bit_rate {
        original["bitrate"] = json!(b);
    }
    let mut meta = json!({
        "length": length(p.duration),
        "duration": round3(p.duration),
        "fps": fps.round() as u64,
        "size": format!("{w}x{h}"),
        "width": w,
        "height": h,
        "aspect": w as f64 / h.max(1) as f64,
        "original": original,
    });
    if let Some(a) = &p.audio {
        meta["audio_encode"] = json!(a.codec);
        meta["audio_bitrate"] = json!("128k");
        meta["audio_channels"] = json!(if a.channels == 1 { "mono" } else { "stereo" });
    }
    if let Some((sw, sh)) = small {
        meta["small"] = super::image::size_meta(sw, sh);
    }
    meta
}

/// Mastodon's `meta` for stored audio.
pub fn audio_meta(p: &Probe) -> Value {
    json!({
        "length": length(p.duration),
        "duration": round3(p.duration),
        "audio_encode": p.audio.as_ref().map(|a| a.codec.clone()),
        "audio_channels": p.audio.as_ref().map(|a| if a.channels == 1 { "mono" } else { "stereo" }),
        "original": { "duration": round3(p.duration), "bitrate": p.bit_rate },
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `H:MM:SS.ss`, as Mastodon's `meta.length`.
fn length(secs: f64) -> String {
    let h = (secs / 3600.0).floor();
    let m = ((secs - h * 3600.0) / 60.0).floor();
    let s = secs - h * 3600.0 - m * 60.0;
    format!("{}:{:02}:{:05.2}", h as u64, m as u64, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_fit_and_are_even() {
        assert_eq!(output_size(1080, 1920), (1080, 1920));
        assert_eq!(output_size(2160, 3840), (1080, 1920));
        assert_eq!(output_size(641, 361), (640, 360));
    }

    #[test]
    fn lengths_read_like_mastodon() {
        assert_eq!(length(10.0), "0:00:10.00");
        assert_eq!(length(3725.5), "1:02:05.50");
    }
}
