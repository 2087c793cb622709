"""Reading why a server did not start from Triton's log."""

from __future__ import annotations

from gnet.serve.triton_log import first_error

GPU_LESS = '''W1123 06:34:38.642319 3057 pinned_memory_manager.cc:273] "Unable to allocate pinned system memory"
E1123 06:34:38.642475 3057 server.cc:241] "CudaDriverHelper has not been initialized."
Error: Failed to initialize NVML
'''


def test_the_first_real_error_without_its_prefix(tmp_path):
    log = tmp_path / "tritonserver.log"
    log.write_text(GPU_LESS + 'E1123 06:35:01.1 3057 model_lifecycle.cc:654] "failed to load \'googlenet\' version 1: '
                   'Internal: InvalidGraph: \\"Bogus\\" is not a registered op"\n'
                   "error: creating server: Internal - failed to load all models\n")
    assert first_error(log) == "failed to load 'googlenet' version 1: Internal: InvalidGraph: \"Bogus\" is not a registered op"


def test_a_gpu_less_machines_warnings_are_not_errors(tmp_path):
    log = tmp_path / "tritonserver.log"
    log.write_text(GPU_LESS)
    assert first_error(log) == ""
    log.write_text(GPU_LESS + "error: creating server: Internal - failed to load all models\n")
    assert first_error(log) == "error: creating server: Internal - failed to load all models"
    assert first_error(tmp_path / "missing.log") == ""


def test_triton_errors_become_one_line_cut_at_a_word():
    """Issue 19 #14: literal \\n\\nAt:\\n, stack frames and paths cut mid-word reached the user."""
    from gnet.serve.triton_log import clean_error

    raw = "Failed to process the request: ValueError: bad pixels\\n\\nAt:\\n  /tmp/gnet-triton-1/models/googlenet/1/model.py(80): execute\\n"
    assert clean_error(raw) == "Failed to process the request: ValueError: bad pixels"
    assert clean_error("first\nsecond") == "first"
    long = "word " * 100
    cut = clean_error(long, limit=52)
    assert cut.endswith(" …") and len(cut) <= 54 and "wor …" not in cut
    assert clean_error("") == "the server failed this request"
