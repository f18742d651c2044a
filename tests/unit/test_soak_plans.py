"""The soak's plans (uploads, faults) and how it reads a worker's log for the document in hand."""

from __future__ import annotations

import json
from pathlib import Path

from bucket_ocr_soak.faults import KINDS, document_in_hand, plan_faults
from bucket_ocr_soak.workload import CORRUPT, DUPLICATE, OVERWRITE, VALID, plan_workload


def test_a_workload_has_exactly_the_uploads_asked_for_and_every_kind() -> None:
    for uploads in (1, 2, 30, 301):
        workload = plan_workload(uploads, interval=0.1, seed=7)
        assert workload.upload_count == uploads
    short = plan_workload(30, interval=0.1, seed=7)
    assert all(short.count(kind) >= 1 for kind in (VALID, CORRUPT, DUPLICATE, OVERWRITE))


def test_duplicates_repeat_their_bytes_and_overwrites_change_them() -> None:
    workload = plan_workload(60, interval=0.1, seed=3)
    for planned in workload.objects:
        bodies = [upload.body for upload in planned.uploads]
        if planned.kind == DUPLICATE:
            assert len(bodies) == 2 and bodies[0] == bodies[1]
        elif planned.kind == OVERWRITE:
            assert len(bodies) == 2 and bodies[0] != bodies[1]
        else:
            assert len(bodies) == 1
    keys = [planned.key for planned in workload.objects]
    assert len(set(keys)) == len(keys)


def test_the_timeline_is_paced_and_seeded() -> None:
    workload = plan_workload(40, interval=0.25, seed=11)
    firsts = [planned.uploads[0].at for planned in workload.objects]
    assert firsts == [index * 0.25 for index in range(len(firsts))]
    timeline = workload.timeline
    assert [u.at for u in timeline] == sorted(u.at for u in timeline)
    again = plan_workload(40, interval=0.25, seed=11)
    assert [(u.key, u.at, u.body) for u in again.timeline] == [(u.key, u.at, u.body) for u in timeline]


def test_faults_are_spread_over_the_upload_phase() -> None:
    plan = plan_faults({"kill": 2, "broker": 1, "duplicate": 3}, duration=70.0, seed=5)
    assert [offset for offset, _ in plan] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert sorted(kind for _, kind in plan) == ["broker", "duplicate", "duplicate", "duplicate", "kill", "kill"]
    assert {kind for _, kind in plan} <= set(KINDS)


def _log(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_a_worker_is_mid_document_between_recognising_and_its_end(tmp_path: Path) -> None:
    reading = _log(
        tmp_path / "a.log",
        "worker-0: ready (in-process)",
        {"message": "recognising", "key": "one.png"},
        {"message": "recognised", "key": "one.png"},
        {"message": "recognising", "key": "two.png"},
        {"message": "a line of its own, say a retry", "key": "two.png"},
    )
    idle = _log(
        tmp_path / "b.log", {"message": "recognising", "key": "x.png"}, {"message": "permanent failure", "key": "x.png"}
    )
    assert document_in_hand(reading) == "two.png"
    assert document_in_hand(idle) is None
    assert document_in_hand(tmp_path / "missing.log") is None
