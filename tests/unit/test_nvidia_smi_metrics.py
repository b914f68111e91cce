"""The nvidia-smi textfile collector parses what nvidia-smi prints and writes series that
Prometheus reads and the recording rules turn into tradia:gpu_memory_used_ratio."""

import importlib.util
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from monitoring_rules import ROLE, ROOT, promtool, write_rules

SCRIPT = ROLE / "files" / "nvidia_smi_metrics.py"
SHIM = ROOT / "molecule" / "gpu_and_docker_ce" / "files" / "shims" / "nvidia_smi.py"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


metrics = _load(SCRIPT, "nvidia_smi_metrics")


def _fake_nvidia_smi(tmp_path: Path, *, loaded: bool, fields: dict[str, str] | None = None) -> str:
    """The molecule shim itself, run as nvidia-smi, its driver check answered by `loaded` (the
    shim reads /dev/nvidiactl, which a unit test cannot create) and, where given, the fields it
    answers replaced."""
    wrapper = tmp_path / "nvidia-smi"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import sys, runpy\n"
        f"shim = runpy.run_path({str(SHIM)!r})\n"
        f"shim['main'].__globals__['driver_loaded'] = lambda: {loaded!r}\n"
        f"shim['GPU'].update({fields or {}!r})\n"
        "sys.exit(shim['main'](sys.argv[1:]))\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def test_parses_the_shims_output(tmp_path: Path) -> None:
    shim = _fake_nvidia_smi(tmp_path, loaded=True)
    fields = ("index", "uuid", "name", "memory.total", "memory.used")
    output = subprocess.run(
        [shim, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    (gpu,) = metrics.parse(output, fields)
    assert gpu.labels == {
        "gpu": "0",
        "uuid": "GPU-5f0c3f5e-0000-4000-8000-000000000001",
        "name": "NVIDIA L4",
    }
    assert gpu.values == {
        "tradia_gpu_memory_total_bytes": 23034 * 1024 * 1024,
        "tradia_gpu_memory_used_bytes": 0,
    }


def test_real_output_with_unsupported_values() -> None:
    # Two GPUs as a driver prints them, one that cannot report its utilisation.
    output = (
        "0, GPU-aaaa, NVIDIA L40S, 46068, 43765, 87\n1, GPU-bbbb, NVIDIA L4, 23034, 1024, [N/A]\n"
    )
    first, second = metrics.parse(output)
    assert first.values["tradia_gpu_utilization_ratio"] == pytest.approx(0.87)
    assert first.values["tradia_gpu_memory_used_bytes"] == 43765 * 1024 * 1024
    assert "tradia_gpu_utilization_ratio" not in second.values
    assert second.labels["gpu"] == "1"


def test_a_short_line_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 6 columns"):
        metrics.parse("0, GPU-aaaa, NVIDIA L4, 23034\n")


def test_script_writes_the_textfile_from_the_shim(tmp_path: Path) -> None:
    # The query the script makes, answered by the shim (utilization.gpu given to it here).
    shim = _fake_nvidia_smi(
        tmp_path,
        loaded=True,
        fields={"utilization.gpu": ("42", " %"), "memory.used": ("21000", " MiB")},
    )
    out = tmp_path / "textfile"
    out.mkdir()
    assert metrics.main([str(out), "--nvidia-smi", shim]) == 0
    text = (out / metrics.OUTPUT_NAME).read_text()
    assert "tradia_gpu_nvidia_smi_up 1\n" in text
    labels = '{gpu="0",uuid="GPU-5f0c3f5e-0000-4000-8000-000000000001",name="NVIDIA L4"}'
    assert f"tradia_gpu_utilization_ratio{labels} 0.42\n" in text
    assert f"tradia_gpu_memory_used_bytes{labels} {float(21000 * 1024 * 1024)!r}\n" in text
    assert not list(out.glob(".tradia_gpu.*")), "temporary file left behind"


def test_the_shim_as_shipped_answers_the_collectors_query(tmp_path: Path) -> None:
    # The molecule lab runs the collector against the shim unchanged: every field it asks for,
    # utilization.gpu included, must be answered (the shim's idle L4: 0 % busy).
    shim = _fake_nvidia_smi(tmp_path, loaded=True)
    out = tmp_path / "textfile"
    out.mkdir()
    assert metrics.main([str(out), "--nvidia-smi", shim]) == 0
    text = (out / metrics.OUTPUT_NAME).read_text()
    labels = '{gpu="0",uuid="GPU-5f0c3f5e-0000-4000-8000-000000000001",name="NVIDIA L4"}'
    assert "tradia_gpu_nvidia_smi_up 1\n" in text
    assert f"tradia_gpu_utilization_ratio{labels} 0.0\n" in text


def test_driver_not_loaded_says_down(tmp_path: Path) -> None:
    shim = _fake_nvidia_smi(tmp_path, loaded=False)
    out = tmp_path / "textfile"
    out.mkdir()
    assert metrics.main([str(out), "--nvidia-smi", shim]) == 1
    text = (out / metrics.OUTPUT_NAME).read_text()
    assert "tradia_gpu_nvidia_smi_up 0\n" in text
    assert "tradia_gpu_memory_used_bytes" not in text


def test_the_recording_rule_reads_the_textfile(tmp_path: Path) -> None:
    """What the script writes, as Prometheus would scrape it, gives tradia:gpu_memory_used_ratio
    (promtool evaluates the real recording rule over those samples)."""
    gpus = metrics.parse("0, GPU-aaaa, NVIDIA L4, 23034, 21882, 50\n")
    text = metrics.render(gpus, up=True)
    series = []
    for line in text.splitlines():
        if line.startswith("#") or line.startswith(metrics.UP_METRIC):
            continue
        name_labels, value = line.rsplit(" ", 1)
        name, labels = name_labels.split("{", 1)
        series.append(
            f'      - series: \'{name}{{job="node",instance="ai1",tradia_role="ai",{labels}\'\n'
            f"        values: '{value}x5'\n"
        )
    write_rules(tmp_path)
    (tmp_path / "gpu.test.yml").write_text(
        "rule_files: [tradia.rules.yml]\nevaluation_interval: 1m\ntests:\n"
        "  - interval: 1m\n    input_series:\n" + "".join(series) + "    promql_expr_test:\n"
        "      - expr: tradia:gpu_memory_used_ratio\n        eval_time: 1m\n        exp_samples:\n"
        '          - labels: \'tradia:gpu_memory_used_ratio{instance="ai1", gpu="0"}\'\n'
        f"            value: {21882 / 23034!r}\n"
        "      - expr: tradia:gpu_utilization_ratio\n        eval_time: 1m\n        exp_samples:\n"
        '          - labels: \'tradia:gpu_utilization_ratio{instance="ai1", gpu="0"}\'\n'
        "            value: 0.5\n"
    )
    result = subprocess.run(
        [promtool(), "test", "rules", "gpu.test.yml"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
