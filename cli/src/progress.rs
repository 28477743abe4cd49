//! Progress bars for long offline commands (`mutu import`, `mutu reindex`):
//! drawn on standard error when it is a terminal, nothing at all when it is
//! piped or redirected (indicatif hides a bar whose target is not a
//! terminal), so scripts and transcripts see the same output as before.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps, counted in `unit`, with rate and time left.
pub fn bar(len: u64, what: &str, unit: Unit) -> ProgressBar {
    let template = match unit {
        Unit::Bytes => "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        Unit::Count => "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    // The templates are constants: a mistake in one shows as a plain bar.
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// What a bar counts.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Bytes,
    Count,
}
