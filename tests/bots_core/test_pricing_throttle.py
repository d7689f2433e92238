"""Pure decisions: job price, queue ETA, status-edit throttling."""

from __future__ import annotations

import pytest

from bots.core.pricing import eta_seconds, price_gpu_seconds
from bots.core.throttle import EditThrottle


@pytest.mark.parametrize(
    ("dims", "expected"),
    [
        ((832, 480, 81, 50), 90.0),
        ((480, 832, 81, 50), 90.0),
        ((832, 480, 17, 50), 18.89),
        ((832, 480, 81, 25), 45.0),
        ((16, 16, 1, 1), 0.01),
    ],
)
def test_price_scales_with_work(dims: tuple[int, int, int, int], expected: float) -> None:
    assert price_gpu_seconds(*dims, per_reference_clip=90.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("position", "running", "engines", "eta"),
    [(1, 0, 1, 60.0), (1, 1, 1, 90.0), (3, 1, 1, 210.0), (3, 2, 2, 150.0), (1, 0, 0, 60.0)],
)
def test_eta(position: int, running: int, engines: int, eta: float) -> None:
    assert eta_seconds(position, running, engines, 60.0) == pytest.approx(eta)


def test_throttle_edits_only_on_change_and_at_most_every_interval() -> None:
    th = EditThrottle(interval_s=4.0)
    assert th.should_edit("m", "10%", now=0.0)
    assert not th.should_edit("m", "10%", now=10.0)  # unchanged
    assert not th.should_edit("m", "20%", now=2.0)  # too soon
    assert th.should_edit("m", "20%", now=4.0)
    assert th.should_edit("m", "done", now=4.5, force=True)  # final state goes out at once
    assert th.should_edit("other", "10%", now=4.5)  # per message
