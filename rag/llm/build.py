"""The llama.cpp build kgrag installs: the CPU's own vector features, never AMX, never reused blindly.

Why this exists: building llama-cpp-python with `-march=native` on a CPU with AMX (Intel Sapphire
Rapids and later) compiles llama.cpp's AMX kernels, which crash on Q4_K_M weights at the first
decode (ggml-org/llama.cpp#20824). A generic AVX2 build is safe but leaves a third of the prompt
speed on the table on AVX-512 machines. So kgrag reads the CPU's features itself and turns each
one into an explicit llama.cpp CMake option (`GGML_NATIVE=OFF`, so no `-march=native` is ever
used), with every AMX option off.

pip's wheel cache is keyed by the source archive, not by `CMAKE_ARGS` or the CPU, so a wheel built
elsewhere would silently come back. The wheel is therefore built once into a wheelhouse in kgrag's
cache whose folder name carries a digest of the flags, the CPU features and the Python tag, and is
installed from there.

Run as `python -m rag.llm.build install` (the Makefile does, before installing kgrag) and
`python -m rag.llm.build check` (after). This module imports only the standard library at import
time: it runs before kgrag's dependencies are installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LLAMA_CPP_PYTHON",
    "BuildPlan",
    "FEATURE_OPTIONS",
    "cpu_features",
    "plan_build",
    "reported_features",
    "wheelhouse_root",
]

LLAMA_CPP_PYTHON = "0.3.36"

# llama.cpp CMake option → the /proc/cpuinfo flags the CPU must have for it (all of them).
FEATURE_OPTIONS: dict[str, tuple[str, ...]] = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_BMI2": ("bmi2",),
    "GGML_AVX_VNNI": ("avx_vnni",),
    "GGML_AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "GGML_AVX512_VBMI": ("avx512vbmi",),
    "GGML_AVX512_VNNI": ("avx512_vnni",),
    "GGML_AVX512_BF16": ("avx512_bf16",),
}
# Never on, whatever the CPU says: these kernels crash on the shipped Q4_K_M model.
DISABLED_OPTIONS = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")
# The CPU flags that decide the build: the wheel's key is a digest of these, not of all flags.
RELEVANT_FLAGS = sorted({flag for flags in FEATURE_OPTIONS.values() for flag in flags})


@dataclass(frozen=True)
class BuildPlan:
    """What to build for this machine and where its wheel lives."""

    version: str
    cmake_args: tuple[str, ...]
    features: tuple[str, ...]  # the relevant CPU flags present, sorted
    key: str  # digest of everything that changes the binary

    @property
    def cmake_string(self) -> str:
        return " ".join(self.cmake_args)

    @property
    def enabled(self) -> tuple[str, ...]:
        """The llama.cpp options switched on, e.g. ('GGML_AVX2', 'GGML_AVX512', …)."""
        return tuple(a[2:].split("=")[0] for a in self.cmake_args if a.endswith("=ON"))

    def wheelhouse(self) -> Path:
        return wheelhouse_root() / f"llama-cpp-python-{self.version}-{self.key}"


def wheelhouse_root() -> Path:
    """`$KGRAG_HOME/wheels` (the same cache folder as the models)."""
    home = os.environ.get("KGRAG_HOME")
    if home:
        return Path(home).expanduser() / "wheels"
    try:
        import platformdirs
    except ImportError:  # before dependencies are installed: the XDG default platformdirs uses
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "kgrag" / "wheels"
    return Path(platformdirs.user_cache_dir("kgrag", appauthor=False)) / "wheels"


def cpu_features(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (`/proc/cpuinfo`); empty elsewhere."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def plan_build(features: frozenset[str] | None = None, machine: str | None = None) -> BuildPlan:
    """The explicit CMake options for this CPU (x86-64), AMX always off; generic elsewhere."""
    features = cpu_features() if features is None else features
    machine = (machine or platform.machine()).lower()
    args = ["-DGGML_NATIVE=OFF"]
    if machine in ("x86_64", "amd64"):
        for option, needed in FEATURE_OPTIONS.items():
            on = all(flag in features for flag in needed)
            args.append(f"-D{option}={'ON' if on else 'OFF'}")
    args += [f"-D{option}=OFF" for option in DISABLED_OPTIONS]
    present = tuple(flag for flag in RELEVANT_FLAGS if flag in features)
    tag = sysconfig.get_platform() + "-" + sys.implementation.cache_tag
    digest_input = json.dumps([LLAMA_CPP_PYTHON, args, present, machine, tag])
    key = hashlib.sha256(digest_input.encode()).hexdigest()[:16]
    return BuildPlan(LLAMA_CPP_PYTHON, tuple(args), present, key)


def reported_features(system_info: str) -> dict[str, bool]:
    """Parse `llama_print_system_info()` ('CPU : SSE3 = 1 | AVX2 = 1 | …') into {name: on}."""
    found: dict[str, bool] = {}
    for name, value in re.findall(r"([A-Z][A-Z0-9_]*) = (\d)", system_info):
        found[name] = found.get(name, False) or value == "1"
    return found


def expected_report(plan: BuildPlan) -> dict[str, bool]:
    """What the installed build must report for `plan`: its vector extensions on, AMX off."""
    expected = {"AMX_INT8": False}
    for option, report_name in (
        ("GGML_AVX2", "AVX2"),
        ("GGML_AVX512", "AVX512"),
        ("GGML_AVX512_VNNI", "AVX512_VNNI"),
        ("GGML_FMA", "FMA"),
    ):
        expected[report_name] = option in plan.enabled
    return expected


def _marker() -> Path:
    """Where the installed build is recorded: in the environment running this module (the
    venv's `sys.prefix`, never the base interpreter its `python` symlink resolves to)."""
    return Path(sys.prefix) / ".kgrag-llama-build.json"


def _installed_key() -> str | None:
    marker = _marker()
    try:
        return str(json.loads(marker.read_text())["key"])
    except (OSError, ValueError, KeyError):
        return None


def _build_wheel(plan: BuildPlan, python: str) -> Path:
    """Compile the wheel into a fresh folder, then move it into the wheelhouse in one rename."""
    house = plan.wheelhouse()
    house.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{house.name}-", dir=house.parent))
    env = {**os.environ, "CMAKE_ARGS": plan.cmake_string, "FORCE_CMAKE": "1"}
    jobs = str(os.cpu_count() or 1)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", jobs)
    print(f"kgrag: compiling llama-cpp-python {plan.version} for this CPU (once, 5-20 min)…")
    print(f"kgrag: CMAKE_ARGS={plan.cmake_string}")
    command = [
        python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
        "--no-binary", "llama-cpp-python", f"llama-cpp-python=={plan.version}",
        "-w", str(staging),
    ]  # fmt: skip
    try:
        subprocess.run(command, env=env, check=True)
        (staging / "build.json").write_text(
            json.dumps(
                {
                    "version": plan.version,
                    "key": plan.key,
                    "cmake_args": plan.cmake_args,
                    "features": plan.features,
                },
                indent=1,
            )  # fmt: skip
        )
        if house.exists():  # a concurrent build won the race; keep theirs
            shutil.rmtree(staging)
        else:
            staging.chmod(0o777 & ~_umask())  # mkdtemp's 0700 is for staging only
            staging.rename(house)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return house


def _importable() -> bool:
    """llama_cpp is really there (a marker alone could outlive a removed package)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _wheel_in(house: Path) -> Path | None:
    wheels = sorted(house.glob("llama_cpp_python-*.whl"))
    return wheels[0] if wheels else None


def install(force: bool = False) -> BuildPlan:
    """Install the wheel for this CPU into the running environment, building it if needed."""
    python = sys.executable
    plan = plan_build()
    if not force and _installed_key() == plan.key and _importable():
        print(f"kgrag: llama-cpp-python {plan.version} for this CPU is installed ({plan.key})")
        return plan
    wheel = _wheel_in(plan.wheelhouse())
    if wheel is None:
        wheel = _wheel_in(_build_wheel(plan, python))
    if wheel is None:
        raise SystemExit(f"kgrag: no wheel was produced in {plan.wheelhouse()}")
    print(f"kgrag: installing {wheel.name} from {wheel.parent}")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    _marker().write_text(
        json.dumps({"key": plan.key, "wheel": str(wheel), "cmake_args": plan.cmake_args})
    )
    return plan


def check() -> int:
    """Compare what the installed llama.cpp reports with what this CPU's plan asks for."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    report = reported_features(info.decode() if isinstance(info, bytes) else str(info))
    plan = plan_build()
    problems = [
        f"{name} is {'on' if report.get(name, False) else 'off'}, expected {'on' if on else 'off'}"
        for name, on in expected_report(plan).items()
        if report.get(name, False) != on
    ]
    on = sorted(name for name, value in report.items() if value)
    print(f"kgrag: llama.cpp CPU features: {' '.join(on)}")
    for problem in problems:
        print(f"kgrag: llama.cpp build problem: {problem}", file=sys.stderr)
    if problems:
        print("kgrag: rebuild with `python -m rag.llm.build install --force`", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.llm.build", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    install_cmd = sub.add_parser("install", help="build (once) and install the CPU-keyed wheel")
    install_cmd.add_argument("--force", action="store_true", help="reinstall even if up to date")
    sub.add_parser("check", help="verify the installed build's features (no AMX)")
    sub.add_parser("plan", help="print the CMake options and wheelhouse for this CPU")
    args = parser.parse_args(argv)
    if args.command == "install":
        install(force=args.force)
        return 0
    if args.command == "check":
        return check()
    plan = plan_build()
    print(json.dumps({"cmake_args": plan.cmake_args, "features": plan.features,
                      "key": plan.key, "wheelhouse": str(plan.wheelhouse())}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
