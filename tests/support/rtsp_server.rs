//! A local RTSP camera for the tests: serves a video file as a live H.264 or H.265 stream on
//! 127.0.0.1 with gstreamer-rtsp-server, optionally behind basic authentication.
//!
//! Usage: test-rtsp-server --port P --file F [--codec h264|h265|copy] [--path /cam]
//!        [--user U --password PW]
//!
//! `--codec copy` serves an H.264 Matroska file as it is, without decoding and re-encoding
//! (the capacity benchmark runs many cameras and must not spend the machine on encoders).
//! Prints `READY rtsp://127.0.0.1:P/path` once it listens, then serves until killed.

use gstreamer as gst;
use gstreamer_rtsp_server as rtsp;
use rtsp::prelude::*;
use std::io::Write;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(file)) = (arg(&args, "--port"), arg(&args, "--file")) else {
        eprintln!(
            "usage: test-rtsp-server --port P --file F [--codec h264|h265|copy] [--path /cam] [--user U --password PW]"
        );
        std::process::exit(2);
    };
    let codec = arg(&args, "--codec").unwrap_or_else(|| "h264".into());
    let path = arg(&args, "--path").unwrap_or_else(|| "/cam".into());
    if let Err(e) = gst::init() {
        eprintln!("gstreamer init: {e}");
        std::process::exit(1);
    }
    let encoder = match codec.as_str() {
        "h265" => {
            "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=800 ! rtph265pay name=pay0 pt=96 config-interval=1"
        }
        _ => {
            "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=800 ! rtph264pay name=pay0 pt=96 config-interval=1"
        }
    };
    let launch = if codec == "copy" {
        format!(
            "( filesrc location=\"{file}\" ! matroskademux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
    } else {
        format!(
            "( filesrc location=\"{file}\" ! decodebin ! videoconvert ! video/x-raw,format=I420 ! {encoder} )"
        )
    };
    let main_loop = gst::glib::MainLoop::new(None, false);
    let server = rtsp::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(&port);
    let Some(mounts) = server.mount_points() else {
        eprintln!("no mount points");
        std::process::exit(1);
    };
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(&launch);
    factory.set_shared(true);
    if let (Some(user), Some(password)) = (arg(&args, "--user"), arg(&args, "--password")) {
        let auth = rtsp::RTSPAuth::new();
        let token = rtsp::RTSPToken::builder()
            .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
            .build();
        let basic = rtsp::RTSPAuth::make_basic(&user, &password);
        auth.add_basic(basic.as_str(), &token);
        server.set_auth(Some(&auth));
        factory.add_role_from_structure(
            &gst::Structure::builder("user")
                .field(rtsp::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
                .field(rtsp::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
                .build(),
        );
    }
    mounts.add_factory(&path, factory);
    let _source = match server.attach(None) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("could not listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("READY rtsp://127.0.0.1:{port}{path}");
    let _ = std::io::stdout().flush();
    main_loop.run();
}
