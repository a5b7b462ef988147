"""The real pipeline through `dvc repro`, on tiny embedded data sets and the `debug` presets.

One module-scoped workspace: a copy of the project in a temp git repo, so DVC, the stage
scripts and MLflow run exactly as for a user, just smaller. About a minute on 2 cores.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytestmark = pytest.mark.slow


# Source files a stage may import without listing them as deps: they cannot change its outputs
# (logging, experiment tracking, error formatting; and every package's __init__.py, below).
NOT_DEPS = {"ganaudio/utils/logs.py", "ganaudio/tracking.py", "ganaudio/errors.py"}
SOURCES = ("ganaudio/", "stages/", "flows/")


@pytest.fixture(scope="module")
def ws(tmp_path_factory, workspace_tools):
    ws = workspace_tools.make(tmp_path_factory.mktemp("pipeline"))
    result = workspace_tools.dvc(ws, "repro", env={"GANAUDIO_RECORD_IMPORTS": str(ws / ".imports")})
    assert result.returncode == 0, f"dvc repro failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return ws


def test_every_module_a_stage_imports_is_one_of_its_deps(ws):
    """A code change must rerun the stages it can change: each stage's import closure (recorded
    while it ran) lies inside its dvc.yaml deps."""
    import yaml

    stages = yaml.safe_load((ws / "dvc.yaml").read_text())["stages"]
    recorded = {p.stem: set(json.loads(p.read_text())) for p in (ws / ".imports").glob("*.json")}
    assert set(recorded) == set(stages)
    missing = {}
    for name, body in stages.items():
        deps = [d.rstrip("/") for d in body.get("deps", [])]
        covered = lambda f: any(f == d or f.startswith(d + "/") for d in deps)  # noqa: E731
        gaps = sorted(f for f in recorded[name] - NOT_DEPS
                      if f.startswith(SOURCES) and not f.endswith("__init__.py") and not covered(f))
        if gaps:
            missing[name] = gaps
    assert not missing, f"dvc.yaml deps miss modules the stages import: {missing}"


def test_data_stages_write_the_documented_layout(ws):
    maestro = ws / "data/raw/maestro/maestro-v3.0.0"
    assert (maestro / "maestro-v3.0.0.csv").exists() and list(maestro.glob("*/*.midi"))
    for split in ("train", "valid", "test"):
        assert list((ws / "data/raw/sc09" / split).glob("*_nohash_*.wav")), split
        assert (ws / f"data/processed/notes/windows_{split}.npz").exists()
        assert (ws / f"data/processed/mels/{split}.pt").exists()
    assert list((ws / "data/processed/notes/table").glob("split=*/*.parquet"))
    notes = json.loads((ws / "reports/data/notes.json").read_text())
    assert notes["failed"] == 0


def test_pianogan_render_writes_valid_256_note_midi(ws):
    import pretty_midi
    import soundfile as sf

    from ganaudio.audio.midi import MIN_TICKS, TICKS_PER_SECOND

    samples = ws / "reports/pianogan/samples"
    midis = sorted(samples.glob("pairs/*_generated.mid"))
    assert len(midis) == 2
    with np.load(samples / "samples.npz") as f:
        raw = f["notes"]
    assert raw.shape == (2, 256, 4)  # 256 generated notes per latent vector
    for path, notes in zip(midis, raw):
        written = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
        onset = np.cumsum(notes[:, 1])
        # Every generated note is in the MIDI, except a key struck again within a tick or two
        # (MIDI cannot hold both; notes_to_midi keeps the later strike, as a piano would).
        restruck = [any(notes[j, 0] == notes[i, 0] and 0 <= onset[j] - onset[i] < MIN_TICKS / TICKS_PER_SECOND
                        for j in range(i + 1, 256)) for i in range(256)]
        assert len(written) == 256 - sum(restruck)
        got = sorted((n.pitch, round(n.start * TICKS_PER_SECOND)) for n in written)
        want = sorted((int(p), round(t * TICKS_PER_SECOND)) for (p, t, r) in zip(notes[:, 0], onset, restruck) if not r)
        assert all(g[0] == w[0] and abs(g[1] - w[1]) <= 1 for g, w in zip(got, want))
        assert sf.info(str(path.with_suffix(".wav"))).frames > 0
        assert path.with_suffix(".png").stat().st_size > 0
    assert (samples / "pitch_only.mid").exists() and (samples / "interpolation.png").exists()
    # As many real test windows, rendered the same way, beside them
    assert len(list(samples.glob("pairs/*_real.wav"))) == 2 and len(list(samples.glob("pairs/*_real.mid"))) == 2


def test_pianogan_wavs_are_a_soundfont_piano_and_say_so(ws):
    render = json.loads((ws / "reports/pianogan/render.json").read_text())
    # make run installs midirenderer from PyPI and pretty_midi ships a soundfont: never the sine synth
    assert render["renderer"] in ("midirenderer", "fluidsynth") and render["renderers_used"] == [render["renderer"]]
    assert render["soundfont"].endswith(".sf2")


def test_pianogan_metrics_have_the_documented_shape(ws):
    metrics = json.loads((ws / "reports/pianogan/metrics.json").read_text())
    rows = {"trained", "autoregressive", "untrained", "iid_notes", "shuffled_train", "copy_train", "reference"}
    assert metrics["split"] == "test" and set(metrics["rows"]) == rows
    assert set(metrics["distances"]["pitch_class_kl"]) == rows
    for row in rows:
        r = metrics["rows"][row]
        assert {"mgeval", "distances", "novelty", "structure_score", "order_score", "mean_overlap"} <= set(r)
        assert set(r["mgeval"]["pitch_class_transition"]) >= {"overlap_area", "kl", "intra_overlap"}
        assert r["seeds"] == 2  # the debug preset's draws per row
    assert metrics["rows"]["copy_train"]["novelty"]["failed"] and "copy_train" in metrics["flagged"]
    head = metrics["headline"]  # the contract promotion reads
    assert isinstance(head["name"], str) and isinstance(head["passed"], bool)
    assert all(isinstance(head[k], float) for k in ("score", "baseline_score", "baseline_std"))
    assert {"step_std", "duration_std"} <= set(metrics["spread"])
    assert set(metrics["spread"]["step_std"]) == {"generated", "real"}
    assert set(metrics["head_entropy"]["trained"]) == {"pitch", "step", "duration"}
    assert (ws / "reports/pianogan/evaluation.png").stat().st_size > 0


def test_spectogan_render_and_eval(ws):
    import soundfile as sf

    from ganaudio.data.mels import parse_sc09_name

    samples = ws / "reports/spectogan/samples"
    wavs = sorted(samples.glob("pairs/*_generated_*.wav"))
    reals = sorted(samples.glob("pairs/*_real_*.wav"))
    assert len(wavs) == len(reals) == 2
    # each pair is about one digit: the recording behind the real half is labelled with the generated one's digit
    render = json.loads((ws / "reports/spectogan/render.json").read_text())
    asked = [int(w.stem.split("_")[-1]) for w in wavs]
    assert [parse_sc09_name(f)[0] for f in render["pair_real_clips"]] == asked == render["pair_digits"]
    info = sf.info(str(wavs[0]))
    assert (info.samplerate, info.channels) == (16000, 1)
    assert (samples / "digits_real_vs_generated.png").exists()
    assert (ws / "reports/spectogan/digits.png").exists()
    assert render["samples"] == 2
    metrics = json.loads((ws / "reports/spectogan/metrics.json").read_text())
    assert set(metrics["inception_score"]) >= {"trained", "untrained", "real"}
    assert set(metrics["fid"]) >= {"trained", "untrained", "real"}
    assert set(metrics["inception_score"]["trained"]) == {"mean", "std"}
    assert 0.0 <= metrics["classifier_test_accuracy"] <= 1.0
    # the presets' SpectoGAN is conditional: per-digit accuracy beside IS/FID
    assert metrics["conditional"] is True
    accuracy = metrics["per_digit_accuracy"]["trained"]
    assert len(accuracy["per_digit"]) == 10 and sum(map(sum, accuracy["confusion"])) == metrics["n_samples"]["generated"]


def test_wavegan_waves_render_and_eval(ws):
    import soundfile as sf
    import torch

    waves, mels = torch.load(ws / "data/processed/waves/train.pt"), torch.load(ws / "data/processed/mels/train.pt")
    assert waves["files"] == mels["files"] and waves["x"].shape[1:] == (1, 16384)
    samples = ws / "reports/wavegan/samples"
    wavs = sorted(samples.glob("sample_*.wav"))
    assert len(wavs) == 2
    info = sf.info(str(wavs[0]))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 16384)
    for name in ("sample_00.png", "digits_real_vs_generated.png", "waveforms_real_vs_generated.png",
                 "interpolation.png", "interpolation.wav"):
        assert (samples / name).stat().st_size > 0, name
    train = json.loads((ws / "reports/wavegan/train.json").read_text())
    assert train["monitor"]["key"] == "fid" and (ws / "models/wavegan/best.pt").exists()  # the valid-split monitor ran
    metrics = json.loads((ws / "reports/wavegan/metrics.json").read_text())
    spec = json.loads((ws / "reports/spectogan/metrics.json").read_text())
    assert set(metrics["fid"]) == {"trained", "untrained", "real"}
    assert metrics["fid"]["real"] == spec["fid"]["real"]  # one judge: the same real row for both GANs
    assert set(metrics["headline"]) == set(spec["headline"]) and metrics["split"] == "test"
    heard = metrics["heard_digit_counts"]  # the digits the classifier hears, as SpectoGAN's report gives them
    assert sum(heard["trained"]) == sum(heard["untrained"]) and heard["real"] == spec["heard_digit_counts"]["real"]
    assert (ws / "reports/wavegan/digits.png").stat().st_size > 0


def test_second_repro_does_nothing(ws, workspace_tools):
    dvc = workspace_tools.dvc
    status = dvc(ws, "status")
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout
    again = dvc(ws, "repro")
    assert again.returncode == 0 and "Running stage" not in again.stdout, again.stdout


def test_every_stage_logged_a_tagged_mlflow_run(ws, workspace_tools):
    from ganaudio.tracking import import_mlflow

    os.environ["MLFLOW_TRACKING_URI"] = workspace_tools.env(ws)["MLFLOW_TRACKING_URI"]
    try:
        mlflow = import_mlflow()
        mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
        runs = mlflow.search_runs(experiment_names=["data", "pianogan", "spectogan", "wavegan"], output_format="list")
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI")
    stages = {r.data.tags["ganaudio.stage"] for r in runs}
    assert stages >= {"fetch_maestro", "fetch_sc09", "notes", "mels", "waves", "train_pianogan", "render_pianogan",
                      "eval_pianogan", "train_classifier", "train_spectogan", "render_spectogan", "eval_spectogan",
                      "train_wavegan", "render_wavegan", "eval_wavegan"}
    assert all(len(r.data.tags["git.commit"]) == 40 for r in runs)


@pytest.mark.parametrize("gan, suffixes", [("pianogan", {".mid", ".wav"}), ("spectogan", {".wav", ".png"}),
                                          ("wavegan", {".wav", ".png"})])
def test_generate_command_writes_playable_files(ws, workspace_tools, tmp_path, gan, suffixes):
    import subprocess
    import sys
    from pathlib import Path

    import soundfile as sf

    cli = Path(sys.executable).parent / "ganaudio"
    out = tmp_path / gan
    result = subprocess.run([str(cli), "generate", gan, "--checkpoint", f"models/{gan}/checkpoints/latest.pt",
                             "--n", "3", "--out", str(out)], cwd=ws, env=workspace_tools.env(ws),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    files = sorted(out.iterdir())
    assert {f.suffix for f in files} == suffixes and len(files) == 6
    for wav in out.glob("*.wav"):
        assert sf.info(str(wav)).frames > 0


def test_generate_a_digit_from_the_trained_checkpoint(ws, workspace_tools, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "ganaudio"
    result = subprocess.run([str(cli), "generate", "spectogan", "--checkpoint", "models/spectogan/checkpoints/latest.pt",
                             "--digit", "7", "--n", "2", "--out", str(tmp_path)], cwd=ws, env=workspace_tools.env(ws),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list(tmp_path.glob("*.wav"))) == 2


def test_generate_command_names_a_missing_checkpoint(ws, workspace_tools, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "ganaudio"
    result = subprocess.run([str(cli), "generate", "spectogan", "--checkpoint", "models/nope.pt", "--out",
                             str(tmp_path)], cwd=ws, env=workspace_tools.env(ws), capture_output=True, text=True)
    assert result.returncode == 2
    assert "models/nope.pt not found" in result.stderr and "dvc repro train_spectogan" in result.stderr


# ---------------------------------------------------------------- the README's experiment lines
# The fresh-clone test leaves `ws` alone; the other runs last, as it applies an experiment to `ws`.

def readme_exp_lines(root) -> list[str]:
    """The `dvc exp run -S` lines of the README's "Experiments with DVC" block that run on a CPU."""
    text = (root / "README.md").read_text()
    block = text.split("## Experiments with DVC", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [line for line, full in zip(lines, block.splitlines())
            if line.startswith("dvc exp run -S") and "GPU" not in full]


def run_line(workspace_tools, ws, line: str, *extra: str):
    import shlex

    args = shlex.split(line)[1:]  # without the leading `dvc`
    return workspace_tools.dvc(ws, *args, *extra)


def test_readme_exp_run_works_on_a_fresh_clone(ws, workspace_tools, tmp_path):
    """A clone has dvc.lock and the reports but an empty DVC cache: models/<gan> is listed, not there.

    An experiment that does not retrain PianoGAN used to fail after its stages ran ("failed to
    load directory ('models', 'pianogan')"): dvc.yaml's plots pointed inside the cached models/pianogan.
    """
    import shutil
    import subprocess

    (line,) = readme_exp_lines(workspace_tools.root)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ws), str(clone)], check=True)
    for rel in ["dvc.lock", *[str(p.relative_to(ws)) for p in ws.glob("reports/**/*") if p.suffix in (".json", ".csv")]]:
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ws / rel, clone / rel)  # what the project commits after `make run`
    env = workspace_tools.env(clone)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "lock"], cwd=clone, check=True, env=env)
    assert not (clone / "models").exists() and not (clone / ".dvc" / "cache").exists()

    result = run_line(workspace_tools, clone, line, "train_spectogan")  # only what that stage needs
    assert result.returncode == 0, f"{line} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Running stage 'train_spectogan'" in result.stdout
    assert "Running stage 'train_pianogan'" not in result.stdout
    assert (clone / "reports/spectogan/losses.csv").read_text().startswith("step")


def test_training_from_scratch_again_reproduces_the_same_bits(ws, workspace_tools):
    """Same params, same bits: delete the trained models, `dvc repro` again, and the checkpoints'
    weights and the evaluation metrics come out equal (it retrains in this workspace: after the checks above)."""
    import shutil

    import torch

    gans = ("pianogan", "spectogan", "wavegan")

    def weights():
        out = {}
        for gan in gans:
            for name in ("initial.pt", "latest.pt"):
                blob = torch.load(ws / "models" / gan / "checkpoints" / name, weights_only=True)
                out[(gan, name)] = {k: blob[k] for k in ("generator", "critic", "step")}
        return out

    before = weights()
    metrics = {gan: (ws / f"reports/{gan}/metrics.json").read_text() for gan in gans}
    for gan in gans:
        shutil.rmtree(ws / "models" / gan)
    result = workspace_tools.dvc(ws, "repro")
    assert result.returncode == 0, result.stdout[-3000:]
    after = weights()
    for key, blob in before.items():
        for part in ("generator", "critic"):
            for name, tensor in blob[part].items():
                assert torch.equal(tensor, after[key][part][name]), (key, part, name)
    for gan in gans:
        assert (ws / f"reports/{gan}/metrics.json").read_text() == metrics[gan], gan


def test_readme_exp_run_works_after_make_run(ws, workspace_tools):
    import yaml

    lines = readme_exp_lines(workspace_tools.root)
    assert lines, "the README lists no CPU `dvc exp run -S` line"
    for line in lines:
        result = run_line(workspace_tools, ws, line)
        assert result.returncode == 0, f"{line} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Ran experiment" in result.stdout
    params = yaml.safe_load((ws / "params.yaml").read_text())
    key, value = lines[0].split("-S", 1)[1].strip().lstrip("+").split("=")
    section = params
    for part in key.split("."):
        section = section[part]
    assert float(section) == float(value)  # the experiment's params were applied to the workspace
