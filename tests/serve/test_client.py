"""The small client against the session's real server: both protocols, readiness, statistics."""

from __future__ import annotations

import numpy as np
import pytest

from gnet.errors import UsageError
from gnet.serve.client import Client, served_logits
from tests.helpers.serving import free_ports, needs_serving

pytestmark = needs_serving()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_client_infers_reports_readiness_and_statistics(service, images, reference, protocol):
    with Client(service.url(protocol), protocol) as client:
        assert client.ready()
        before = client.statistics()
        logits = client.infer(images[:3])
        after = client.statistics()
    assert logits.dtype == np.float32 and float(np.abs(logits - reference[:3]).max()) <= 1e-5
    assert after[1] - before[1] == 3 and after[0] - before[0] == 1


def test_served_logits_sends_every_image_in_requests_of_the_batch(service, images, reference):
    out = served_logits(service.grpc_url, "grpc", images[:5], 2)  # 2 + 2 + 1
    assert out.shape == (5, reference.shape[1]) and float(np.abs(out - reference[:5]).max()) <= 1e-5


def test_nothing_listening_is_not_ready_and_an_unknown_protocol_is_refused():
    (port,) = free_ports(1)
    with Client(f"127.0.0.1:{port}", "http", timeout_s=2) as client:
        assert not client.ready()
    with pytest.raises(UsageError, match="unknown protocol 'tcp'"):
        Client("127.0.0.1:1", "tcp")
