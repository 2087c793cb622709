from pathlib import Path

import pytest
import torch

from gnet.errors import GnetError
from gnet.export import weights as weights_mod
from gnet.export.weights import (
    load_checkpoint,
    load_imagenet,
    load_random,
    load_weights,
)


def test_checkpoint_with_aux_heads_loads_without_them(aux_checkpoint: Path):
    loaded = load_checkpoint(aux_checkpoint)
    assert loaded.num_classes == 1000
    assert loaded.model.aux1 is None and loaded.model.aux2 is None
    assert not any(k.startswith(("aux1.", "aux2.")) for k in loaded.model.state_dict())
    assert loaded.transform_input is False
    assert len(loaded.weights_sha256) == 64


def test_plain_state_dict_and_num_classes_from_fc(tmp_path: Path, small_model):
    path = tmp_path / "sd.pt"
    torch.save({"module." + k: v for k, v in small_model.state_dict().items()}, path)
    loaded = load_checkpoint(path)
    assert loaded.num_classes == 10
    for k, v in small_model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v)


def test_random_weights_are_reproducible():
    a, b, c = load_random(seed=5), load_random(seed=5), load_random(seed=6)
    assert a.weights_sha256 == b.weights_sha256 != c.weights_sha256
    assert load_weights("random:5").weights_sha256 == a.weights_sha256
    assert a.spec == "random:5"


def test_other_architecture_is_refused(tmp_path: Path):
    from torchvision.models import resnet18

    path = tmp_path / "resnet.pth"
    torch.save(resnet18().state_dict(), path)
    with pytest.raises(GnetError, match="not a torchvision GoogLeNet checkpoint"):
        load_checkpoint(path)


def test_corrupt_and_missing_files_are_one_sentence(tmp_path: Path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(GnetError, match="corrupt or not a PyTorch checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(GnetError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pth")
    notes = tmp_path / "dict.pth"
    torch.save({"lr": 0.1}, notes)
    with pytest.raises(GnetError):
        load_checkpoint(notes)


@pytest.mark.timeout(120)  # generous on a loaded machine: a hang or a retry loop fails, a slow core does not
def test_imagenet_without_network_fails_fast_and_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Point the hub cache at an empty folder and the URL at a closed local port, so nothing is downloaded.
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    class Offline:
        url = "http://127.0.0.1:9/googlenet-1378be20.pth"
        meta = weights_mod.IMAGENET_WEIGHTS.meta

    monkeypatch.setattr(weights_mod, "IMAGENET_WEIGHTS", Offline)
    with pytest.raises(GnetError, match="cannot download torchvision's ImageNet weights.*--weights PATH"):
        load_imagenet()  # a refused connection, never a retry loop: pytest-timeout fails a hang
    assert not any(tmp_path.rglob("*.pth"))
    with pytest.raises(GnetError, match="not cached"):
        load_imagenet(allow_download=False)


def test_imagenet_from_cache_sets_transform_input_and_class_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A cached file in torchvision's layout (seeded weights stand in for the real ones: tests never download).
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    from torchvision.models import googlenet

    torch.manual_seed(0)
    state = googlenet(weights=None, aux_logits=True, init_weights=True).state_dict()
    target = weights_mod.imagenet_cache_path()
    target.parent.mkdir(parents=True)
    torch.save(state, target)
    assert weights_mod.imagenet_available()
    loaded = load_imagenet()
    assert loaded.transform_input is True and loaded.model.transform_input is True
    assert loaded.class_names[0] == "tench" and len(loaded.class_names) == 1000
    assert loaded.spec == "imagenet"
