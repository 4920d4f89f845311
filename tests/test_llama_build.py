"""The llama.cpp build: explicit flags from the CPU's own features, AMX never, and the installed
build reports exactly that wherever the suite runs."""

from __future__ import annotations

from rag.llm.build import (
    expected_report,
    plan_build,
    reported_features,
)

AVX2_CPU = frozenset(["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"])
SAPPHIRE_RAPIDS = AVX2_CPU | frozenset(
    [
        "avx512f",
        "avx512cd",
        "avx512vl",
        "avx512dq",
        "avx512bw",
        "avx512vbmi",
        "avx512_vnni",
        "avx512_bf16",
        "avx_vnni",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
    ]
)


def test_an_amx_cpu_gets_its_avx512_features_and_never_amx() -> None:
    plan = plan_build(SAPPHIRE_RAPIDS, machine="x86_64")
    assert "-DGGML_NATIVE=OFF" in plan.cmake_args  # no -march=native, ever
    assert {"GGML_AVX2", "GGML_AVX512", "GGML_AVX512_VNNI", "GGML_AVX_VNNI"} <= set(plan.enabled)
    for amx in ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"):
        assert f"-D{amx}=OFF" in plan.cmake_args
        assert amx not in plan.enabled


def test_avx512_needs_all_of_its_base_extensions() -> None:
    partial = AVX2_CPU | {"avx512f", "avx512cd"}  # no vl/dq/bw: llama.cpp's AVX512 needs them all
    plan = plan_build(partial, machine="x86_64")
    assert "GGML_AVX2" in plan.enabled
    assert "GGML_AVX512" not in plan.enabled


def test_the_wheel_key_changes_with_the_cpu_but_not_with_irrelevant_flags() -> None:
    base = plan_build(AVX2_CPU, machine="x86_64")
    assert plan_build(AVX2_CPU | {"hypervisor", "rdrand"}, machine="x86_64").key == base.key
    assert plan_build(SAPPHIRE_RAPIDS, machine="x86_64").key != base.key
    assert base.wheelhouse().name.endswith(base.key)


def test_other_architectures_get_a_generic_build() -> None:
    plan = plan_build(frozenset({"asimd", "sve"}), machine="aarch64")
    assert plan.cmake_args[0] == "-DGGML_NATIVE=OFF"
    assert plan.enabled == ()


def test_system_info_is_parsed_feature_by_feature() -> None:
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 1 | LLAMAFILE = 1 |"
    report = reported_features(info)
    assert report["AVX2"] is True
    assert report["AVX512"] is False
    assert report["AMX_INT8"] is True


def test_the_installed_llama_cpp_has_no_amx_and_the_cpus_vector_extensions() -> None:
    import llama_cpp  # installed by `make` (rag/llm/build.py), never optional

    info = llama_cpp.llama_print_system_info()
    report = reported_features(info.decode() if isinstance(info, bytes) else str(info))
    assert not report.get("AMX_INT8", False), info
    plan = plan_build()  # this machine's CPU
    for name, on in expected_report(plan).items():
        assert report.get(name, False) == on, f"{name}: {info}"
    if "avx2" in plan.features:
        assert report["AVX2"], info
    if "avx512f" in plan.features and "avx512bw" in plan.features:
        assert report["AVX512"], info


def test_this_environment_records_the_build_for_this_cpu() -> None:
    import json
    import sys
    from pathlib import Path

    marker = Path(sys.prefix) / ".kgrag-llama-build.json"  # the venv, never the base Python
    assert marker.is_file(), "run `make install` (python -m rag.llm.build install)"
    assert json.loads(marker.read_text())["key"] == plan_build().key
