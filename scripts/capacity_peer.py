"""Python peer of one hallwatch camera, for scripts/capacity: the plain way to build the same
product in Python. opencv-python decodes the clip, every frame goes through onnxruntime with
the same model, supervision's ByteTrack follows people and its PolygonZone counts them in the
camera's zones (bottom-centre anchor, as hallwatch's feet). It writes the files hallwatch's
`replay` writes (tracks.txt, zone_counts.csv, zone_sessions.csv) so that `hallwatch eval-zones`
scores both the same way, and prints one JSON line with the CPU seconds it used.

    python capacity_peer.py CLIP MODEL THREADS CONFIG CAMERA OUT_DIR [EVERY=1]
"""
import json
import os
import resource
import sys
import time
import tomllib

import cv2
import numpy as np
import onnxruntime as ort
import supervision as sv

clip, model, threads, config, camera, out = sys.argv[1:7]
every = int(sys.argv[7]) if len(sys.argv) > 7 else 1
threads = int(threads)
cfg = tomllib.load(open(config, "rb"))
zones = [z for z in cfg.get("zones", []) if z["camera"] == camera]
os.makedirs(out, exist_ok=True)

opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0].name
cap = cv2.VideoCapture(clip)
fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
W = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
H = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
tracker = sv.ByteTrack(frame_rate=max(1, round(fps / every)))
polys = {
    z["id"]: sv.PolygonZone(
        polygon=(np.array(z["polygon"], dtype=float) * [W, H]).astype(int),
        triggering_anchors=[sv.Position.BOTTOM_CENTER],
    )
    for z in zones
}
tracks_f = open(os.path.join(out, "tracks.txt"), "w")
counts_f = open(os.path.join(out, "zone_counts.csv"), "w")
counts_f.write("frame,time_s,zone,count\n")
sessions_f = open(os.path.join(out, "zone_sessions.csv"), "w")
sessions_f.write("zone,track_id,enter_s,exit_s,duration_s,truncated,tracks\n")
inside = {zid: {} for zid in polys}  # zone -> track id -> (enter_s, last_in_s)


def close(zid, tid, enter, last, truncated):
    sessions_f.write(f"{zid},{tid},{enter:.3f},{last:.3f},{last - enter:.3f},{str(truncated).lower()},{tid}\n")


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# Start-up (imports, model load) is left out, as the server's start-up is.
cpu0 = cpu_s()
start = time.perf_counter()
decoded = analysed = 0
t = 0.0
while True:
    ok, bgr = cap.read()
    if not ok:
        break
    decoded += 1
    if (decoded - 1) % every:
        continue
    analysed += 1
    frame = decoded
    t = (decoded - 1) / fps
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    x = cv2.resize(rgb, (512, 512)).astype(np.float32)[None]
    det = sess.run(["tower_0/detections"], {inp: x})[0][0]
    keep = det[(det[:, 4] >= 0.2) & (det[:, 5] == 0)]
    xyxy = keep[:, :4] * np.array([W / 512, H / 512] * 2, dtype=np.float32)
    dets = sv.Detections(xyxy=xyxy, confidence=keep[:, 4], class_id=np.zeros(len(keep), dtype=int))
    tracked = tracker.update_with_detections(dets)
    for (x1, y1, x2, y2), tid, conf in zip(tracked.xyxy, tracked.tracker_id, tracked.confidence):
        tracks_f.write(f"{frame},{tid},{x1:.1f},{y1:.1f},{x2 - x1:.1f},{y2 - y1:.1f},{conf:.3f},-1,-1,-1\n")
    for zid, zone in polys.items():
        mask = zone.trigger(tracked) if len(tracked) else np.zeros(0, dtype=bool)
        now = {int(i) for i in tracked.tracker_id[mask]}
        counts_f.write(f"{frame},{t:.3f},{zid},{len(now)}\n")
        here = inside[zid]
        for tid in list(here):
            if tid not in now:
                enter, last = here.pop(tid)
                close(zid, tid, enter, last, False)
        for tid in now:
            enter, _ = here.get(tid, (t, t))
            here[tid] = (enter, t)
wall = time.perf_counter() - start
for zid, here in inside.items():
    for tid, (enter, last) in here.items():
        close(zid, tid, enter, last, True)
for f in (tracks_f, counts_f, sessions_f):
    f.close()
print(json.dumps({"camera": camera, "decoded": decoded, "analysed": analysed, "wall_s": wall,
                  "cpu_s": cpu_s() - cpu0, "footage_s": decoded / fps,
                  "size": [W, H], "fps": fps}))
