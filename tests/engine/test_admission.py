"""`RequestAdmission`: requests are admitted or refused whole, by count and by the audio they hold."""

from __future__ import annotations

import pytest

from engine.admission import RequestAdmission
from engine.errors import QueueFullError


def test_past_the_request_limit_a_request_is_refused_and_a_finished_one_frees_its_place():
    admission = RequestAdmission(max_requests=2, max_audio_s=3600)
    with (
        admission.admit(1.0),
        admission.admit(1.0),
        pytest.raises(QueueFullError, match="2 requests are already being transcribed"),
        admission.admit(1.0),
    ):
        pass
    with admission.admit(1.0):
        assert (admission.requests, admission.audio_s) == (1, 1.0)
    assert (admission.requests, admission.audio_s) == (0, 0.0)


def test_the_audio_budget_refuses_a_long_request_beside_others_but_not_a_short_one():
    admission = RequestAdmission(max_requests=64, max_audio_s=3600)
    with admission.admit(2400.0):
        with (
            pytest.raises(QueueFullError, match="40.0 min of audio, and 25.0 min more would pass the 60 min budget"),
            admission.admit(1500.0),
        ):
            pass
        with admission.admit(5.0):
            assert admission.requests == 2


def test_a_request_longer_than_the_budget_is_admitted_when_it_is_alone():
    admission = RequestAdmission(max_requests=64, max_audio_s=3600)
    with admission.admit(3 * 3600.0):
        assert admission.requests == 1
