"""Head pose against an independent estimate: the face mesh's own 3D fit.

    python -m bench.head_pose_check VIDEO [VIDEO ...] [--frames 300] [--step 2]

For each frame the app's pose (our landmarks -> PnP on the mean face, with
the app's default intrinsics) is compared with the rotation that best
aligns the mean face to MediaPipe's 3D face mesh of the same face (its 478
vertices regressed with depth, mapped to the 68 points, Umeyama fit). The
mesh never sees our landmarks except to be given the face's crop, and it
estimates depth itself, so the two rotations come from different networks
and different geometry. Prints, per video, the median and mean angle
between the two rotations and the mean absolute difference of yaw, pitch
and roll, in degrees. Needs `requirements-train.txt` (nothing else).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from core.config import PipelineConfig
from core.pipeline import LandmarkPipeline
from core.rotations import euler_xyz, rotation_angle_deg, similarity_align
from core.sources import open_source


def compare(video: Path, frames: int, step: int) -> dict:
    from core.mean_face import MEAN_FACE_68
    from training.corpus.face_mesh import FaceMesh3D
    from training.mean_face import mesh_68

    pipe = LandmarkPipeline(PipelineConfig(points=68))
    pipe.prepare_for_source(live=False)
    mesher = FaceMesh3D()
    angles, deltas, yaws = [], [], []
    for frame in open_source(video):
        if frame.index >= frames:
            break
        result = pipe.process(frame.image, frame.timestamp)
        if frame.index % step or not result.faces or not result.faces[0].success:
            continue
        face = result.faces[0]
        mesh = mesher.mesh(frame.image, face.raw_points)
        if mesh is None:
            continue
        _, r_mesh, _ = similarity_align(MEAN_FACE_68, mesh_68(mesh))
        r_ours = face.pose.rotation
        angles.append(rotation_angle_deg(r_ours, r_mesh))
        deltas.append(np.degrees(np.abs(np.subtract(euler_xyz(r_ours), euler_xyz(r_mesh)))))
        yaws.append(abs(math.degrees(euler_xyz(r_mesh)[1])))
    mesher.close()
    pipe.close()
    d = np.array(deltas)
    return {"video": video.name, "frames": len(angles), "median": float(np.median(angles)),
            "mean": float(np.mean(angles)), "pitch": float(d[:, 0].mean()), "yaw": float(d[:, 1].mean()),
            "roll": float(d[:, 2].mean()), "max_yaw": float(np.max(yaws))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--frames", type=int, default=100000, help="frames per video at most")
    parser.add_argument("--step", type=int, default=2, help="compare every STEP-th frame")
    args = parser.parse_args(argv)
    rows = [compare(v, args.frames, args.step) for v in args.videos]
    print("| video | frames compared | largest yaw (mesh) | angle between rotations, median | mean | "
          "mean abs diff pitch | yaw | roll |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['video']} | {r['frames']} | {r['max_yaw']:.0f} | {r['median']:.1f} | {r['mean']:.1f} | "
              f"{r['pitch']:.1f} | {r['yaw']:.1f} | {r['roll']:.1f} |")


if __name__ == "__main__":
    main()
