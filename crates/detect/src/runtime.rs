//! Finding and loading the ONNX Runtime shared library (`load-dynamic`).
//!
//! The library comes from the PyPI `onnxruntime` wheel, unpacked by `scripts/dev setup` into
//! the cache. Lookup order: `ORT_DYLIB_PATH`; `$HALLWATCH_CACHE/onnxruntime/`;
//! `~/.cache/hallwatch/onnxruntime/`; the executable's folder; the system library folders.

use crate::DetectError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The wheel version `scripts/dev setup` installs; the `ort` crate's `api-24` feature accepts
/// ONNX Runtime 1.24 and later.
pub const ORT_VERSION: &str = "1.31.1";

static RUNTIME: OnceLock<Result<(ort::environment::Environment, PathBuf), String>> =
    OnceLock::new();

fn candidates_in(dir: &Path) -> Vec<PathBuf> {
    let mut v = vec![dir.join(format!("libonnxruntime.so.{ORT_VERSION}"))];
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut others: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
            })
            .collect();
        others.sort();
        others.reverse();
        v.extend(others);
    }
    v.push(dir.join("libonnxruntime.so"));
    v
}

/// Every place the library is looked for, in order.
pub fn search_paths() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        v.push(PathBuf::from(p));
    }
    let mut dirs = Vec::new();
    if let Some(c) = std::env::var_os("HALLWATCH_CACHE") {
        dirs.push(PathBuf::from(c).join("onnxruntime"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join(".cache/hallwatch/onnxruntime"));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir);
    }
    dirs.push(PathBuf::from("/usr/local/lib"));
    dirs.push(PathBuf::from("/usr/lib/x86_64-linux-gnu"));
    dirs.push(PathBuf::from("/usr/lib"));
    for d in dirs {
        for c in candidates_in(&d) {
            if !v.contains(&c) {
                v.push(c);
            }
        }
    }
    v
}

/// Loads ONNX Runtime once per process and returns its environment and the library's path.
pub fn environment() -> Result<(&'static ort::environment::Environment, &'static Path), DetectError>
{
    let r = RUNTIME.get_or_init(|| {
        let paths = search_paths();
        let mut tried = Vec::new();
        for p in &paths {
            if !p.is_file() {
                tried.push(format!("{} (absent)", p.display()));
                continue;
            }
            match ort::init_from(p) {
                Ok(builder) => match builder.with_name("hallwatch").build() {
                    Ok(env) => return Ok((env, p.clone())),
                    Err(e) => tried.push(format!("{} ({e})", p.display())),
                },
                Err(e) => tried.push(format!("{} ({e})", p.display())),
            }
        }
        Err(tried.join("; "))
    });
    match r {
        Ok((env, path)) => Ok((env, path.as_path())),
        Err(looked) => Err(DetectError::RuntimeMissing {
            looked: looked.clone(),
            hint: format!(
                "Run `scripts/dev setup` (it unpacks libonnxruntime.so.{ORT_VERSION} from the PyPI \
                 onnxruntime=={ORT_VERSION} wheel into ~/.cache/hallwatch/onnxruntime), or set \
                 ORT_DYLIB_PATH to a libonnxruntime.so of version 1.24 or later."
            ),
        }),
    }
}
