"""The soak's arithmetic: percentiles, terminal states, lost, stale and duplicated OCR counts."""

from __future__ import annotations

import pytest

from bucket_ocr_soak.measure import (
    EngineRun,
    ResultSeen,
    Uploaded,
    duplicated_ocr,
    figures,
    percentile,
    undisturbed,
    verdicts,
)


def test_percentiles_interpolate_between_ranks_like_numpy() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert percentile([float(n) for n in range(1, 101)], 0.95) == pytest.approx(95.05)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None


def test_duplicated_ocr_counts_runs_beyond_one_per_object_version() -> None:
    runs = [
        EngineRun("a.png", "e1", None),
        EngineRun("a.png", "e1", None),  # the same version again: one duplicate
        EngineRun("a.png", "e2", None),  # an overwrite is a new version: not a duplicate
        EngineRun("b.png", "e3", "v1"),
        EngineRun("b.png", "e3", "v1"),
        EngineRun("b.png", "e3", "v1"),  # two beyond the first
    ]
    assert duplicated_ocr(runs) == 3


def _judge(kinds, uploads, results, letters=None):
    return {v.key: v for v in verdicts(kinds, uploads, results, letters or {})}


def test_each_object_is_judged_on_its_last_upload() -> None:
    # given a valid page, an overwrite, a corrupt upload and one nobody answered
    kinds = {"ok.png": "valid", "over.png": "overwrite", "bad.png": "corrupt", "gone.png": "valid"}
    uploads = [
        Uploaded("ok.png", "e-ok", 100.0),
        Uploaded("over.png", "e-old", 100.0),
        Uploaded("over.png", "e-new", 100.1),
        Uploaded("bad.png", "e-bad", 100.0),
        Uploaded("gone.png", "e-gone", 100.0),
    ]
    results = {
        "ok.png": ResultSeen("ok.png", "succeeded", "e-ok", 101.5),
        "over.png": ResultSeen("over.png", "succeeded", "e-old", 102.0),  # the first version's, written last
        "bad.png": ResultSeen("bad.png", "failed", "e-bad", 100.5),
    }

    # when they are judged
    judged = _judge(kinds, uploads, results, {"bad.png": 1})

    # then each gets its verdict
    assert judged["ok.png"].one_terminal_state and judged["ok.png"].latency == pytest.approx(1.5)
    assert judged["over.png"].stale and judged["over.png"].latency is None
    assert judged["bad.png"].one_terminal_state and judged["bad.png"].latency is None
    assert judged["gone.png"].lost and not judged["gone.png"].one_terminal_state


def test_a_re_sent_duplicate_is_timed_from_its_first_upload() -> None:
    uploads = [Uploaded("dup.png", "same", 50.0), Uploaded("dup.png", "same", 50.2)]
    result = ResultSeen("dup.png", "succeeded", "same", 51.0)
    judged = _judge({"dup.png": "duplicate"}, uploads, {"dup.png": result})
    assert judged["dup.png"].latency == pytest.approx(1.0)
    assert not judged["dup.png"].stale


@pytest.mark.parametrize(
    ("status", "letters", "one_state"),
    [
        ("succeeded", 0, True),
        ("succeeded", 1, False),  # a result and a letter: two terminal states
        ("failed", 1, True),
        ("failed", 0, False),  # failed, yet nobody was told
        ("failed", 2, False),
        (None, 1, False),  # only the queue's letter: not lost, but no result either
    ],
)
def test_exactly_one_terminal_state(status, letters, one_state) -> None:
    results = {"x.png": ResultSeen("x.png", status, "e", 2.0)} if status else {}
    judged = _judge({"x.png": "valid"}, [Uploaded("x.png", "e", 1.0)], results, {"x.png": letters})
    assert judged["x.png"].one_terminal_state is one_state
    assert judged["x.png"].lost is False


def test_figures_compare_each_measurement_with_its_target() -> None:
    # given two objects: one corrupt and dead-lettered, one valid that took 2 s
    objects = verdicts(
        {"bad.png": "corrupt", "ok.png": "valid"},
        [Uploaded("bad.png", "b", 10.0), Uploaded("ok.png", "o", 10.0)],
        {"bad.png": ResultSeen("bad.png", "failed", "b", 10.2), "ok.png": ResultSeen("ok.png", "succeeded", "o", 12.0)},
        {"bad.png": 1},
    )

    # when one kill was injected and the engine read ok.png three times
    runs = [EngineRun("ok.png", "o", None)] * 3
    report = figures(objects, uploads=2, dead_letters_total=1, engine_runs=runs, kills=1, single_page_seconds=0.5)

    # then duplicated OCR (2) is over the kills (1) and p95 (2 s) over 3 x 0.5 s; the rest is met
    targets = report["targets"]
    assert targets["duplicated OCR"] == {"target": "<= 1 (kills)", "measured": 2, "met": False}
    assert targets["p95 latency, s"]["measured"] == pytest.approx(2.0) and targets["p95 latency, s"]["met"] is False
    assert targets["lost"]["met"] and targets["stale results"]["met"]
    assert targets["corrupt uploads with exactly one dead letter"]["met"]
    assert report["measured"]["results_succeeded"] == 1 and report["measured"]["results_failed"] == 1


def test_duplicated_ocr_is_not_measured_without_engine_run_lines() -> None:
    objects = verdicts(
        {"ok.png": "valid"}, [Uploaded("ok.png", "o", 1.0)], {"ok.png": ResultSeen("ok.png", "succeeded", "o", 2.0)}, {}
    )
    report = figures(objects, uploads=1, dead_letters_total=0, engine_runs=None, kills=0, single_page_seconds=1.0)
    assert report["measured"]["duplicated_ocr"] is None
    assert report["targets"]["duplicated OCR"]["met"] is None


def test_latency_outside_faults_leaves_out_objects_in_flight_during_one() -> None:
    objects = verdicts(
        {"early.png": "valid", "hit.png": "valid", "late.png": "valid"},
        [Uploaded("early.png", "a", 0.0), Uploaded("hit.png", "b", 4.0), Uploaded("late.png", "c", 20.0)],
        {
            "early.png": ResultSeen("early.png", "succeeded", "a", 1.0),
            "hit.png": ResultSeen("hit.png", "succeeded", "b", 12.0),  # in flight across the 5-8 s outage
            "late.png": ResultSeen("late.png", "succeeded", "c", 21.5),
        },
        {},
    )
    assert sorted(undisturbed(objects, [(5.0, 8.0)])) == [1.0, 1.5]
