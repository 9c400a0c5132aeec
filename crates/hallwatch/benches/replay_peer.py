"""Python peer of `hallwatch replay`, for the replay_speed benchmark.

opencv-python decodes vtest.avi, every 5th frame (2 fps of the 10 fps clip, as the replay's
analysis rate) goes through onnxruntime with the same model and threads, supervision's ByteTrack
follows people and its PolygonZone counts them in the same waiting zone. Prints one JSON line.
"""
import json
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort
import supervision as sv

video, model, threads, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0].name
tracker = sv.ByteTrack(frame_rate=10 // every)
W, H = 768, 576
zone = sv.PolygonZone(
    polygon=(np.array([[0.0, 0.30], [0.52, 0.30], [0.52, 0.58], [0.0, 0.50]]) * [W, H]).astype(int),
    triggering_anchors=[sv.Position.BOTTOM_CENTER],
)
start = time.perf_counter()
cap = cv2.VideoCapture(video)
decoded = analysed = 0
max_in_zone = 0
ids = set()
while True:
    ok, bgr = cap.read()
    if not ok:
        break
    decoded += 1
    if (decoded - 1) % every:
        continue
    analysed += 1
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    x = cv2.resize(rgb, (512, 512)).astype(np.float32)[None]
    out = sess.run(["tower_0/detections"], {inp: x})[0][0]
    keep = out[(out[:, 4] >= 0.2) & (out[:, 5] == 0)]
    xyxy = keep[:, :4] * np.array([W / 512, H / 512] * 2, dtype=np.float32)
    dets = sv.Detections(xyxy=xyxy, confidence=keep[:, 4], class_id=np.zeros(len(keep), dtype=int))
    tracked = tracker.update_with_detections(dets)
    ids.update(int(i) for i in tracked.tracker_id)
    max_in_zone = max(max_in_zone, int(zone.trigger(tracked).sum()))
wall = time.perf_counter() - start
print(json.dumps({"decoded": decoded, "analysed": analysed, "wall_s": wall, "tracks": len(ids),
                  "max_in_zone": max_in_zone, "source_fps": decoded / wall}))
