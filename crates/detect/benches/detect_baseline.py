"""Python peer of hallwatch's detector, for the detect_speed benchmark.

Typical Python deployment code: opencv-python resize + numpy conversion + onnxruntime, the same
model file, the same intra-op threads and the same frames (raw RGB files written by the Rust
bench). Prints one JSON line with per-frame milliseconds and frames per second.
"""
import json
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

model, frames_dir, n, width, height, threads = sys.argv[1:7]
n, width, height, threads = int(n), int(width), int(height), int(threads)
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0].name
frames = [np.fromfile(f"{frames_dir}/{i:04d}.rgb", dtype=np.uint8).reshape(height, width, 3) for i in range(n)]


def detect(frame):
    t0 = time.perf_counter()
    x = cv2.resize(frame, (512, 512)).astype(np.float32)[None]
    t1 = time.perf_counter()
    out = sess.run(["tower_0/detections"], {inp: x})[0][0]
    t2 = time.perf_counter()
    keep = out[(out[:, 4] >= 0.45) & (out[:, 5] == 0)]
    boxes = keep[:, :4] * np.array([width / 512, height / 512] * 2, dtype=np.float32)
    t3 = time.perf_counter()
    return len(boxes), (t1 - t0, t2 - t1, t3 - t2)


for f in frames[:3]:
    detect(f)
pre = inf = post = 0.0
people = 0
start = time.perf_counter()
for f in frames:
    k, (a, b, c) = detect(f)
    people += k
    pre, inf, post = pre + a, inf + b, post + c
wall = time.perf_counter() - start
print(json.dumps({"frames": n, "people": people, "pre_ms": pre / n * 1e3, "infer_ms": inf / n * 1e3,
                  "post_ms": post / n * 1e3, "fps": n / wall}))
