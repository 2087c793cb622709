"""--weights auto: ImageNet when cached or downloadable, else the trained fixture, else seeded weights; always with why."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.errors import NotAvailable
from gnet.export import weights_choice
from gnet.export.weights import load_random


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(allow_download: bool = True):
        raise NotAvailable("cannot download torchvision's ImageNet weights from https://x", "Name or service not known",
                           "with no network, pass --weights PATH")

    monkeypatch.setattr(weights_choice, "imagenet_available", lambda: False)
    monkeypatch.setattr(weights_choice, "load_imagenet", no_network)


def test_auto_without_network_or_fixture_uses_seeded_weights_and_says_why(offline, tmp_path: Path):
    chosen = weights_choice.choose_weights("auto", seed=5, fixture=tmp_path / "none.pt")
    assert chosen.loaded.spec == "random:5"
    assert "cannot download torchvision's ImageNet weights from https://x: Name or service not known" in chosen.reason
    assert "with no network" not in chosen.reason  # the cause, not the remedy meant for `--weights imagenet`
    assert "seeded random weights (seed 5)" in chosen.reason


def test_auto_prefers_the_trained_fixture(offline, tmp_path: Path, small_model):
    import torch

    path = tmp_path / "fixture.pt"
    torch.save({"state_dict": small_model.state_dict(), "image_size": 64, "dataset": "digits"}, path)
    chosen = weights_choice.choose_weights("auto", fixture=path)
    assert chosen.loaded.dataset == "digits" and chosen.loaded.image_size == 64
    assert "using the trained fixture" in chosen.reason


def test_a_named_choice_is_loaded_as_named():
    chosen = weights_choice.choose_weights("random:3")
    assert chosen.loaded.weights_sha256 == load_random(3).weights_sha256 and chosen.reason == "--weights random:3"


def test_auto_takes_the_fixture_trained_at_the_measured_size(offline, tmp_path: Path, small_model):
    import torch

    base = tmp_path / "googlenet_digits.pt"
    for path, size in ((base, 64), (tmp_path / "googlenet_digits_224.pt", 224)):
        torch.save({"state_dict": small_model.state_dict(), "image_size": size, "dataset": "digits"}, path)
    assert weights_choice.choose_weights("auto", fixture=base).loaded.image_size == 224  # GoogLeNet's own size
    assert weights_choice.choose_weights("auto", fixture=base, image_size=224).loaded.image_size == 224
    assert weights_choice.choose_weights("auto", fixture=base, image_size=64).loaded.image_size == 64
    assert weights_choice.choose_weights("auto", fixture=base, image_size=96).loaded.image_size == 224
    (tmp_path / "googlenet_digits_224.pt").unlink()
    assert weights_choice.choose_weights("auto", fixture=base, image_size=224).loaded.image_size == 64
