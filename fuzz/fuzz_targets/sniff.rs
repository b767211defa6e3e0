//! Media sniffing of uploads and remote files: the format from the first bytes, where the image
//! ends, GIF frames, and the declared type and name checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rookery::media::sniff;

fuzz_target!(|data: &[u8]| {
    if let Some(format) = sniff::sniff(data) {
        if let Some(end) = sniff::image_end(format, data) {
            assert!(end <= data.len(), "end {end} past {}", data.len());
            let _ = sniff::trailing_is_harmless(format, &data[end..]);
        }
        let _ = sniff::check_declared(format, Some("image/png"), Some("x.gif"));
    }
    let _ = sniff::gif_frames(data);
});
