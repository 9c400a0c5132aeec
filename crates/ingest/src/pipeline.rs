//! Building a camera's GStreamer pipeline from its template.

use crate::IngestError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use hallwatch_config::{AnalysisConfig, CameraConfig, RtspTransport, SourceKind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The pipeline templates shipped in `pipelines/`, by file name.
pub const PIPELINE_TEMPLATES: &[(&str, &str)] = &[
    (
        "rtsp.pipeline",
        include_str!("../../../pipelines/rtsp.pipeline"),
    ),
    (
        "file.pipeline",
        include_str!("../../../pipelines/file.pipeline"),
    ),
    (
        "test.pipeline",
        include_str!("../../../pipelines/test.pipeline"),
    ),
];

const NONE: u64 = u64::MAX;

/// How a buffer probe drops a buffer. The bindings take the buffer out of the probe info and
/// release it themselves; `Drop` would make GStreamer 1.22 unref the (now empty) slot again
/// and log a critical, while `Handled` tells it the probe consumed the buffer.
const DROP_BUFFER: gst::PadProbeReturn = gst::PadProbeReturn::Handled;

fn template_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Rtsp => "rtsp.pipeline",
        SourceKind::File => "file.pipeline",
        SourceKind::Test => "test.pipeline",
    }
}

fn template(name: &str) -> &'static str {
    PIPELINE_TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

/// The caps analysis frames have: packed RGB at the configured size.
fn analysis_caps(a: &AnalysisConfig) -> String {
    let mut caps = String::from("video/x-raw,format=RGB");
    if a.width > 0 {
        caps.push_str(&format!(",width={}", a.width));
    }
    if a.height > 0 {
        caps.push_str(&format!(",height={}", a.height));
    }
    if (a.width > 0) != (a.height > 0) {
        // One side given: square pixels, so the other side follows the source's aspect.
        caps.push_str(",pixel-aspect-ratio=1/1");
    }
    caps
}

/// The launch description a camera's pipeline is built from: its template with comments
/// removed and placeholders filled. Holds no URL, path or credential: those are set as
/// properties on the element named `src`.
pub fn launch_description(cfg: &CameraConfig) -> String {
    let text = template(template_name(cfg.source.kind));
    let body: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    body.join(" ")
        .replace("{caps}", &analysis_caps(&cfg.analysis))
        .replace("{width}", &cfg.source.width.to_string())
        .replace("{height}", &cfg.source.height.to_string())
        .replace("{fps}", &cfg.source.fps.to_string())
}

/// State shared between the pipeline's pad probes (streaming threads) and the camera thread.
#[derive(Default)]
pub(crate) struct Shared {
    /// Frames that left the decoder.
    pub decoded: AtomicU64,
    /// The compressed format the decoder was fed, e.g. "H.264".
    pub codec: OnceLock<String>,
}

/// A built, not yet started pipeline.
pub(crate) struct Built {
    pub pipeline: gst::Pipeline,
    pub sink: gst_app::AppSink,
    pub gate: gst::Element,
    pub shared: Arc<Shared>,
}

/// Whether the source paces itself in real time (frames get wall-clock stamps and are dropped,
/// oldest first, when analysis lags) or is read as fast as analysis takes it.
pub(crate) fn is_live(cfg: &CameraConfig) -> bool {
    match cfg.source.kind {
        SourceKind::Rtsp | SourceKind::Test => true,
        SourceKind::File => cfg.source.looping,
    }
}

fn codec_name(caps_name: &str) -> String {
    match caps_name {
        "video/x-h264" => "H.264".into(),
        "video/x-h265" => "H.265".into(),
        "video/x-vp8" => "VP8".into(),
        "video/x-vp9" => "VP9".into(),
        "video/x-av1" => "AV1".into(),
        "image/jpeg" => "MJPEG".into(),
        "video/mpeg" => "MPEG".into(),
        "video/x-msmpeg" => "MS-MPEG4".into(),
        "video/x-divx" | "video/x-xvid" => "MPEG-4 Part 2".into(),
        other => other.into(),
    }
}

fn missing_element(description: &str, message: &str) -> Option<String> {
    // "no element \"x264enc\"" is how gst_parse reports an unknown factory.
    let start = message.find("no element \"")? + "no element \"".len();
    let end = message[start..].find('"')? + start;
    let name = &message[start..end];
    description.contains(name).then(|| name.to_string())
}

/// Builds the pipeline for `cfg`: parses its template, sets the source's properties, fixes the
/// appsink caps and installs the gate and decoder probes.
pub(crate) fn build(cfg: &CameraConfig) -> Result<Built, IngestError> {
    let template = template_name(cfg.source.kind);
    let description = launch_description(cfg);
    let element = gst::parse::launch(&description).map_err(|e| {
        let message = e.to_string();
        match missing_element(&description, &message) {
            Some(element) => IngestError::MissingElement { element },
            None => IngestError::Template { template, message },
        }
    })?;
    let pipeline = element
        .downcast::<gst::Pipeline>()
        .map_err(|_| IngestError::Template {
            template,
            message: "the description does not make a pipeline".into(),
        })?;
    let named = |name: &str| {
        pipeline.by_name(name).ok_or_else(|| IngestError::Template {
            template,
            message: format!("no element named '{name}'"),
        })
    };
    let src = named("src")?;
    let gate = named("gate")?;
    let sink =
        named("sink")?
            .downcast::<gst_app::AppSink>()
            .map_err(|_| IngestError::Template {
                template,
                message: "'sink' is not an appsink".into(),
            })?;

    let shared = Arc::new(Shared::default());
    let live = is_live(cfg);
    configure_source(cfg, &src)?;

    // Fixed caps on the appsink: RGB at the analysis size, nothing else is accepted.
    let caps = gst::Caps::from_str_checked(&analysis_caps(&cfg.analysis))?;
    sink.set_caps(Some(&caps));
    sink.set_max_buffers(2);
    // Live sources: never let the appsink queue grow; files: back-pressure to the decoder.
    sink.set_drop(live);
    // Looping files are paced in real time like a camera; other sources pace themselves or are
    // read as fast as analysis goes.
    sink.set_sync(cfg.source.kind == SourceKind::File && cfg.source.looping);

    if live {
        // Stamps of live frames are running time + base time on this clock: wall-clock time.
        let clock = glib_realtime_clock();
        pipeline.use_clock(Some(&clock));
    }

    install_gate(
        &gate,
        &shared,
        cfg.analysis.delivered_fps(),
        cfg.analysis.keyframes_only,
    )?;
    if cfg.source.kind == SourceKind::Test {
        let _ = shared.codec.set("raw (test source)".into());
    } else {
        watch_decoder(&pipeline, &shared, cfg.analysis.keyframes_only);
    }
    Ok(Built {
        pipeline,
        sink,
        gate,
        shared,
    })
}

trait CapsFromStr: Sized {
    fn from_str_checked(s: &str) -> Result<Self, IngestError>;
}

impl CapsFromStr for gst::Caps {
    fn from_str_checked(s: &str) -> Result<Self, IngestError> {
        s.parse::<gst::Caps>().map_err(|_| IngestError::Template {
            template: "caps",
            message: format!("invalid caps {s}"),
        })
    }
}

fn glib_realtime_clock() -> gst::Clock {
    let clock: gst::SystemClock = gst::glib::Object::builder()
        .property("clock-type", gst::ClockType::Realtime)
        .build();
    clock.upcast()
}

fn configure_source(cfg: &CameraConfig, src: &gst::Element) -> Result<(), IngestError> {
    let s = &cfg.source;
    match s.kind {
        SourceKind::File => src.set_property("location", &s.path),
        SourceKind::Test => {
            let value = src
                .find_property("pattern")
                .and_then(|pspec| gst::glib::Value::deserialize_with_pspec(&s.pattern, &pspec).ok())
                .ok_or_else(|| IngestError::Template {
                    template: "test.pipeline",
                    message: format!("unknown videotestsrc pattern '{}'", s.pattern),
                })?;
            src.set_property_from_value("pattern", &value);
        }
        SourceKind::Rtsp => {
            let (url, user, password) = s.credentials();
            src.set_property("location", &url);
            if !user.is_empty() {
                src.set_property("user-id", &user);
                src.set_property("user-pw", &password);
            }
            src.set_property("latency", s.latency_ms);
            let protocols = match s.transport {
                RtspTransport::Tcp => Some("tcp"),
                RtspTransport::Udp => Some("udp+udp-mcast"),
                RtspTransport::Auto => None,
            };
            if let Some(p) = protocols {
                src.set_property_from_str("protocols", p);
            }
            // Only video streams are set up; a camera's audio track is never requested.
            src.connect("select-stream", false, |args| {
                let is_video = args
                    .get(2)
                    .and_then(|v| v.get::<gst::Caps>().ok())
                    .and_then(|caps| {
                        caps.structure(0)
                            .and_then(|st| st.get::<String>("media").ok())
                    })
                    .is_some_and(|m| m == "video");
                Some(is_video.to_value())
            });
        }
    }
    Ok(())
}

/// Numbers every decoded frame (buffer offset = 0-based source index) and drops the frames the
/// analysis rate does not need, before they reach scaling and colour conversion. When only
/// keyframes are decoded, the index comes from the timestamp and the stated frame rate.
fn install_gate(
    gate: &gst::Element,
    shared: &Arc<Shared>,
    fps: f64,
    keyframes_only: bool,
) -> Result<(), IngestError> {
    let pad = gate
        .static_pad("sink")
        .ok_or_else(|| IngestError::Template {
            template: "gate",
            message: "identity 'gate' has no sink pad".into(),
        })?;
    let period: u64 = if fps > 0.0 {
        (1e9 / fps).round() as u64
    } else {
        0
    };
    let next_due = AtomicU64::new(NONE);
    let shared = Arc::clone(shared);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let mut index = shared.decoded.fetch_add(1, Ordering::Relaxed);
        let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        if period > 0
            && let Some(pts) = buffer.pts().map(|t| t.nseconds())
        {
            let due = next_due.load(Ordering::Relaxed);
            // 1 ms of slack absorbs container timestamp rounding.
            let slack = 1_000_000;
            let went_back = due != NONE && pts < due.saturating_sub(2 * period);
            if due != NONE && !went_back && pts + slack < due {
                return DROP_BUFFER;
            }
            let next = if due == NONE || went_back || pts >= due + period {
                pts + period
            } else {
                due + period
            };
            next_due.store(next, Ordering::Relaxed);
        }
        if keyframes_only {
            let rate = pad
                .current_caps()
                .and_then(|c| {
                    c.structure(0)
                        .and_then(|st| st.get::<gst::Fraction>("framerate").ok())
                })
                .filter(|f| f.numer() > 0 && f.denom() > 0);
            if let (Some(rate), Some(pts)) = (rate, buffer.pts()) {
                let frames =
                    pts.nseconds() as f64 * rate.numer() as f64 / rate.denom() as f64 / 1e9;
                index = frames.round() as u64;
            }
        }
        buffer.make_mut().set_offset(index);
        gst::PadProbeReturn::Ok
    });
    Ok(())
}

/// Watches the decoder decodebin plugs: records the codec it is fed, and in keyframe-only mode
/// drops every delta unit before it reaches the decoder.
fn watch_decoder(pipeline: &gst::Pipeline, shared: &Arc<Shared>, keyframes_only: bool) {
    let shared = Arc::clone(shared);
    pipeline.connect_deep_element_added(move |_bin, _sub_bin, element| {
        let Some(factory) = element.factory() else {
            return;
        };
        let klass = factory
            .metadata(gst::ELEMENT_METADATA_KLASS)
            .unwrap_or_default();
        if !(klass.contains("Decoder") && klass.contains("Video")) {
            return;
        }
        let Some(pad) = element.static_pad("sink") else {
            return;
        };
        let shared = Arc::clone(&shared);
        let decoder = factory.name().to_string();
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            if shared.codec.get().is_none()
                && let Some(caps) = pad.current_caps()
                && let Some(st) = caps.structure(0)
            {
                let _ = shared
                    .codec
                    .set(format!("{} ({decoder})", codec_name(st.name())));
            }
            if keyframes_only
                && let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_ref()
                && buffer.flags().contains(gst::BufferFlags::DELTA_UNIT)
            {
                return DROP_BUFFER;
            }
            gst::PadProbeReturn::Ok
        });
    });
}
