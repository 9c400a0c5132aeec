//! PDF by printing the HTML with headless Chromium (`--print-to-pdf`): a fresh profile folder
//! per run, no network, no GPU, killed if it hangs.

use crate::ReportError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where Chromium is: `$HALLWATCH_CHROMIUM`, else the first of `chromium`,
/// `chromium-browser`, `google-chrome` found on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HALLWATCH_CHROMIUM").map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Prints `html` (a file) to `pdf` with `chromium`, giving up after `timeout`.
pub fn print(
    chromium: &Path,
    html: &Path,
    pdf: &Path,
    timeout: Duration,
) -> Result<(), ReportError> {
    let profile = tempfile::tempdir().map_err(|e| ReportError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let html = std::fs::canonicalize(html).map_err(|e| ReportError::Io {
        path: html.to_path_buf(),
        source: e,
    })?;
    let _ = std::fs::remove_file(pdf);
    // Chromium's chatter goes to a file: a full pipe nobody reads would block it.
    let log_path = profile.path().join("chromium.log");
    let log = std::fs::File::create(&log_path).map_err(|e| ReportError::Io {
        path: log_path.clone(),
        source: e,
    })?;
    let mut child = Command::new(chromium)
        .arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--disable-background-networking")
        .arg("--disable-extensions")
        .arg("--no-first-run")
        .arg("--no-default-browser-check")
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| ReportError::Chromium(format!("cannot start {}: {e}", chromium.display())))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ReportError::Chromium(format!(
                    "no PDF after {} s; killed",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(ReportError::Chromium(format!("waiting for chromium: {e}"))),
        }
    };
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    let ok = pdf.metadata().map(|m| m.len() > 0).unwrap_or(false);
    if !status.success() || !ok {
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(ReportError::Chromium(format!(
            "printing {} failed ({status}): {tail}",
            html.display()
        )));
    }
    Ok(())
}
