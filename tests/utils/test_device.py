"""runtime.precision: `auto` is bf16 only where the device computes it natively."""

import pytest
import torch

from ganaudio.config import ConfigError, RuntimeConfig
from ganaudio.utils import device as device_module
from ganaudio.utils.device import apply_runtime, autocast, current_precision, native_bf16, resolve_precision

CPU = torch.device("cpu")


@pytest.mark.parametrize("capability,flags,native", [
    ("AVX512", {"avx512f", "avx512_bf16"}, True),   # Zen 4, Cooper Lake
    ("AVX512", {"avx512f", "amx_bf16"}, True),      # Sapphire Rapids
    ("AVX512", {"avx512f"}, False),                 # Skylake-X: AVX-512 without bf16
    ("AVX2", {"avx2"}, False),
    ("DEFAULT", set(), False),                      # not x86, or no /proc/cpuinfo
])
def test_auto_is_bf16_only_on_a_cpu_with_native_bf16(monkeypatch, capability, flags, native):
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(device_module, "cpu_flags", lambda: flags)
    assert native_bf16(CPU) is native
    assert resolve_precision("auto", CPU) == ("bf16" if native else "fp32")
    assert resolve_precision("fp32", CPU) == "fp32" and resolve_precision("bf16", CPU) == "bf16"


def test_bf16_needs_a_device_with_autocast():
    with pytest.raises(ConfigError, match="runtime.precision"):
        resolve_precision("bf16", torch.device("mps"))
    assert resolve_precision("auto", torch.device("mps")) == "fp32"


def test_apply_runtime_sets_the_precision_renders_and_evaluations_use(monkeypatch):
    monkeypatch.setattr(device_module, "_device", None)
    monkeypatch.setattr(device_module, "_precision", None)
    assert current_precision() == "fp32"  # never applied: fp32
    apply_runtime(RuntimeConfig(device="cpu", threads=torch.get_num_threads(), precision="bf16"))
    assert current_precision() == "bf16"
    layer = torch.nn.Linear(4, 4)
    with autocast(CPU):
        assert layer(torch.randn(2, 4)).dtype == torch.bfloat16
    assert layer.weight.dtype == torch.float32  # fp32 master weights
    with autocast(CPU, "fp32"):
        assert layer(torch.randn(2, 4)).dtype == torch.float32
