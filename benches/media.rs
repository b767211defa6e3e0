//! Media processing figures (docs/PERFORMANCE.md), run with `cargo bench --bench media`:
//! - a 1080×1920, 10 s clip (MPEG-4 Part 2 + AAC, so it must be transcoded, not remuxed) through the
//!   upload pipeline's transcode + poster + probe: seconds and the ratio to the clip's length;
//! - 100 photo uploads (12 MP camera-sized JPEGs) through the image pipeline: p50/p99 per photo;
//! - peak RSS of this process (ffmpeg runs as a child: its own peak is read from `getrusage`).
//!
//! Needs Debian's `ffmpeg` on the PATH.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rookery::media::image;
use rookery::media::sniff::Format;
use rookery::media::video::{self, Target};

/// Peak RSS of this process (`VmHWM`), in KiB.
fn self_peak_rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg (apt-get install ffmpeg)")
        .success();
    assert!(ok, "ffmpeg {args:?}");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1080x1920:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "10",
        "-c:v",
        "mpeg4",
        "-q:v",
        "4",
        "-c:a",
        "aac",
        "-shortest",
        clip.to_str().unwrap(),
    ]);
    let probe = video::probe(&clip).await.unwrap();
    let out = dir.path().join("out.mp4");
    let started = Instant::now();
    video::transcode(&clip, &out, &probe, Target::Video, |_| {})
        .await
        .unwrap();
    let out_probe = video::probe(&out).await.unwrap();
    let poster = dir.path().join("poster.jpg");
    video::poster_frame(&out, out_probe.duration, &poster)
        .await
        .unwrap();
    let (_, _) = image::poster(&std::fs::read(&poster).unwrap()).unwrap();
    let secs = started.elapsed().as_secs_f64();
    let child_rss = children_peak_rss_kib();
    println!(
        "transcode 1080x1920 10 s clip: {secs:.2} s ({:.2}x the clip's length), output {} KiB, ffmpeg peak RSS {} MiB",
        secs / probe.duration,
        std::fs::metadata(&out).unwrap().len() / 1024,
        child_rss / 1024
    );

    let photo = dir.path().join("photo.jpg");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=4000x3000:rate=1",
        "-frames:v",
        "1",
        "-q:v",
        "3",
        photo.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(Path::new(&photo)).unwrap();
    let mut times = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let p = image::process(&bytes, Format::Jpeg, 33_177_600).unwrap();
        assert!(!p.blurhash.is_empty());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "100 photo uploads (4000x3000 JPEG, {} KiB): p50 {:.0} ms, p99 {:.0} ms",
        bytes.len() / 1024,
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    println!(
        "peak RSS of the Rookery process: {} MiB",
        self_peak_rss_kib() / 1024
    );
}

/// Peak RSS of the largest finished child process (ffmpeg), in KiB: `getrusage(RUSAGE_CHILDREN)`.
fn children_peak_rss_kib() -> i64 {
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut [i64; 18]) -> i32;
    }
    let mut buf = [0i64; 18];
    // RUSAGE_CHILDREN is -1; on 64-bit Linux `ru_maxrss` follows two timevals (four longs).
    let rc = unsafe { getrusage(-1, &mut buf) };
    if rc == 0 { buf[4] } else { 0 }
}
