"""The soak, short: 30 uploads per store with one of each fault, every object in one terminal state.

The same code as `local/run soak` (bucket_ocr_soak.store_run), on real servers: moto
server or MinIO with RabbitMQ, Toxiproxy between the workers and storage, the supervisor
replacing what the faults take down. Figures such as latency are the full soak's business;
here only what must always hold is asserted: nothing lost, and each object ends with a
succeeded result, or a failed result and exactly one dead letter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bucket_ocr_soak.errors import ToxiproxyNotFoundError
from bucket_ocr_soak.faults import KINDS, MINIO_PATH_ONLY, FaultSettings
from bucket_ocr_soak.store_run import SoakOptions, run_store
from bucket_ocr_soak.toxiproxy import toxiproxy_binary
from tests.integration.conftest import require_binary
from tests.support.rabbitmq import require_rabbitmq_server
from tests.support.servers import require

pytestmark = pytest.mark.integration

UPLOADS = 30
# Short faults, so both stores fit in a few minutes; each still spans several documents.
SHORT_FAULTS = FaultSettings(outage_seconds=3.0, window_seconds=4.0)


def require_toxiproxy() -> None:
    require(toxiproxy_binary, "Toxiproxy", ToxiproxyNotFoundError)


@pytest.mark.parametrize("store", ["moto", "minio"])
def test_a_short_soak_loses_nothing_and_ends_each_object_once(store: str, tmp_path: Path, models_dir: Path) -> None:
    # given the store's stack with Toxiproxy in front of its S3, and one of each fault planned
    require_toxiproxy()
    if store == "minio":
        require_binary("minio")
        require_rabbitmq_server()
    options = SoakOptions(
        store=store,
        work_dir=tmp_path / store,
        uploads=UPLOADS,
        fault_counts={kind: 1 for kind in KINDS},
        fault_settings=SHORT_FAULTS,
        calibration_pages=3,
        burst_pages=8,
        drain_timeout=180.0,
        models_dir=models_dir,
    )

    # when 30 uploads go in while the faults are injected
    report = run_store(options, log=print)

    # then every fault that applies to this store was injected once
    expected = {kind: 0 if store == "moto" and kind in MINIO_PATH_ONLY else 1 for kind in KINDS}
    assert report["faults"]["counts"] == expected, report["faults"]["injected"]
    # and nothing was lost, and every object ended in exactly one terminal state
    measured = report["measured"]
    assert measured["uploads"] == UPLOADS
    assert measured["lost"] == 0, report["problems"]
    assert measured["not_exactly_one_terminal_state"] == 0, report["problems"]
    # and each corrupt upload is among them with its one dead letter
    corrupt = measured["objects_by_kind"]["corrupt"]
    assert measured["corrupt_with_exactly_one_dead_letter"] == corrupt >= 1
