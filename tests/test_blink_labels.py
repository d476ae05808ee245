"""The hand-labelled eye closures that bench/blinks.py scores against: a typo there (a range
backwards, past the video's end, or both closed and ambiguous) would silently skew every blink
precision and recall, so the file's shape is checked here."""
import json
from pathlib import Path

LABELS = Path(__file__).resolve().parent.parent / "bench" / "data" / "blink_labels.json"


def frames_of(ranges: list[list[int]]) -> set[int]:
    return {f for start, end in ranges for f in range(start, end + 1)}


def test_every_labelled_range_is_inside_its_video_and_in_order():
    videos = json.loads(LABELS.read_text())["videos"]
    assert len({v["file"] for v in videos}) == len(videos)             # one entry per video
    for video in videos:
        assert video["closed"], f"{video['file']}: no closure labelled"
        for kind in ("closed", "ambiguous"):
            ranges = video[kind]
            for start, end in ranges:
                assert 0 <= start <= end < video["frames"], f"{video['file']} {kind} {start}-{end}"
            starts = [start for start, _ in ranges]
            assert starts == sorted(starts), f"{video['file']}: {kind} ranges out of order"
            assert sum(end - start + 1 for start, end in ranges) == len(frames_of(ranges)), \
                f"{video['file']}: {kind} ranges overlap"


def test_no_frame_is_both_closed_and_ambiguous():
    for video in json.loads(LABELS.read_text())["videos"]:
        assert not frames_of(video["closed"]) & frames_of(video["ambiguous"]), video["file"]
