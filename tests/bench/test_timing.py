"""The timing loop: warm-up, minimum iterations, and the GPU step split (with a host-clock double)."""

from __future__ import annotations

import numpy as np
import pytest

from gnet.bench.runners.base import Runner
from gnet.bench.timing import TimingConfig, time_end_to_end, time_on_device
from gnet.errors import GnetError


class CountingRunner(Runner):
    backend = "torch-cpu"

    def __init__(self) -> None:
        super().__init__("eager", "fp32")
        self.calls = 0

    def prepare(self, ctx) -> None:
        pass

    def run(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.zeros((len(images), 10), np.float32)


class StagedRunner(CountingRunner):
    """A GPU-shaped runner whose events are host-clock stamps (as ort-cuda's are)."""

    device = "cuda"
    supports_stages = True

    def __init__(self) -> None:
        super().__init__()
        self.uploads = self.computes = self.downloads = 0
        self.clock = 0.0

    def upload(self, images):
        self.uploads += 1
        self.clock += 1.0

    def compute(self):
        self.computes += 1
        self.clock += 2.0

    def download(self):
        self.downloads += 1
        self.clock += 3.0
        return np.zeros((1, 10), np.float32)

    def synchronize(self):
        pass

    def new_event(self):
        return [0.0]

    def record(self, event):
        event[0] = self.clock

    def elapsed_ms(self, start, end):
        return end[0] - start[0]


def test_minimum_iterations_and_warmup():
    runner = CountingRunner()
    timing = time_end_to_end(runner, np.zeros((2, 3, 8, 8), np.float32), TimingConfig(0.0, 0.0, 7))
    assert len(timing.latencies_ms) == 7
    assert timing.warmup_iterations == 1  # at least one warm-up, even with 0 ms
    assert runner.calls == 8
    assert all(v >= 0 for v in timing.latencies_ms)


def test_duration_runs_past_the_minimum():
    runner = CountingRunner()
    timing = time_end_to_end(runner, np.zeros((1, 3, 8, 8), np.float32), TimingConfig(5.0, 0.05, 1))
    assert len(timing.latencies_ms) >= 1
    assert timing.total_s >= 0


def test_progress_ticks_reach_completion():
    seen: list[float] = []
    time_end_to_end(CountingRunner(), np.zeros((1, 3, 8, 8), np.float32), TimingConfig(0.0, 0.01, 3), seen.append)
    assert seen and seen[-1] == pytest.approx(1.0) and all(0 <= f <= 1 for f in seen)


def test_gpu_steps_are_split_and_aligned():
    runner = StagedRunner()
    timing = time_end_to_end(runner, np.zeros((1, 3, 8, 8), np.float32), TimingConfig(0.0, 0.0, 5))
    assert set(timing.stages_ms) == {"h2d", "compute", "d2h"}
    assert all(len(v) == len(timing.latencies_ms) == 5 for v in timing.stages_ms.values())
    assert timing.stages_ms["h2d"] == [1.0] * 5
    assert timing.stages_ms["compute"] == [2.0] * 5
    assert timing.stages_ms["d2h"] == [3.0] * 5
    assert runner.uploads == runner.computes == runner.downloads == 6  # 1 warm-up + 5 timed


def test_on_device_uploads_once_and_never_downloads():
    runner = StagedRunner()
    timing = time_on_device(runner, np.zeros((1, 3, 8, 8), np.float32), TimingConfig(0.0, 0.0, 4))
    assert list(timing.stages_ms) == ["compute"] and len(timing.stages_ms["compute"]) == 4
    assert runner.uploads == 1 and runner.downloads == 0 and runner.computes == 5


def test_cpu_runner_has_no_on_device_mode_and_bad_config_is_refused():
    with pytest.raises(GnetError, match="no on-device mode"):
        time_on_device(CountingRunner(), np.zeros((1, 3, 8, 8), np.float32), TimingConfig())
    for bad in (TimingConfig(-1, 1, 1), TimingConfig(1, -1, 1), TimingConfig(1, 1, 0)):
        with pytest.raises(GnetError):
            bad.check()


def test_round_robin_interleaves_every_runner_equally():
    from gnet.bench.timing import BLOCK, round_robin

    runners = [CountingRunner() for _ in range(3)]
    out = round_robin(runners, np.zeros((1, 3, 8, 8), np.float32), TimingConfig(0.0, 0.0, 4))
    assert all(len(v) >= 4 and len(v) % (BLOCK - 1) == 0 for v in out)
    assert all(r.calls == runners[0].calls for r in runners)  # every configuration ran as often


class EchoRunner(CountingRunner):
    """Answers each image's first pixel as its logits, so a test can tell which batch produced which rows."""

    def __init__(self) -> None:
        super().__init__()
        self.fed: list[float] = []

    def run(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.fed.append(float(images[0, 0, 0, 0]))
        return np.repeat(images[:, 0, 0, :1], 10, axis=1)


def _batches(count: int, batch: int) -> list[np.ndarray]:
    return [np.full((batch, 3, 4, 4), float(i + 1), np.float32) for i in range(count)]


def test_parity_batches_are_the_first_iterations_and_all_of_them_run():
    from gnet.bench.timing import time_with_parity

    runner = EchoRunner()
    timed = np.full((2, 3, 4, 4), -1.0, np.float32)
    # Neither the duration nor the count asks for more than one iteration: the five parity batches still all run.
    timing, logits, parity_s = time_with_parity(runner, _batches(5, 2), timed, TimingConfig(0.0, 0.0, 1))
    assert runner.fed == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert timing.warmup_iterations == 1 and len(timing.latencies_ms) == 4
    assert logits.shape == (10, 10) and list(logits[::2, 0]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert parity_s >= 0


def test_the_loop_goes_on_with_the_timed_images_after_the_parity_batches():
    from gnet.bench.timing import time_with_parity

    runner = EchoRunner()
    timing, logits, _ = time_with_parity(runner, _batches(2, 2), np.full((2, 3, 4, 4), -1.0, np.float32),
                                         TimingConfig(0.0, 0.0, 6))
    assert runner.fed == [1.0, 2.0] + [-1.0] * 5  # 1 warm-up + 6 timed, the first timed one a parity batch
    assert len(timing.latencies_ms) == 6 and logits.shape == (4, 10)


def test_a_runner_timed_elsewhere_runs_its_parity_pass_apart():
    from gnet.bench.timing import leads_with_parity, time_with_parity

    staged = StagedRunner()
    assert leads_with_parity(CountingRunner()) and not leads_with_parity(staged)
    with pytest.raises(GnetError, match="cannot time its parity pass"):
        time_with_parity(staged, _batches(1, 1), np.zeros((1, 3, 4, 4), np.float32), TimingConfig())
