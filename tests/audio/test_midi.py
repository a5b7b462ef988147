import numpy as np
import pytest
import soundfile as sf

import ganaudio.audio.midi as midi
from ganaudio.audio.midi import SINE, choose_synth, notes_to_midi, render_wav, write_midi
from ganaudio.audio.wav import PEAK, TARGET_DBFS, gated_rms
from ganaudio.data.notes import midi_to_notes
from ganaudio.plots.piano import note_spans, plot_piano_roll, plot_piano_rolls

TICK = 1 / 960  # resolution 480 at 120 bpm


def random_notes(n=40, seed=0) -> np.ndarray:
    """(n, 4) raw features with distinct pitches, so no two notes of one key overlap."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(np.arange(30, 100))[:n], rng.choice([0.0, 0.05, 0.13, 0.4], n),
                     rng.uniform(0.02, 1.5, n), rng.integers(10, 120, n)], 1)  # (n, 4)


def test_onsets_are_the_cumulative_steps():
    pm = notes_to_midi(np.array([[60, 0.5, 0.25, 80], [64, 0.25, 0.5, 90], [67, 0.0, 1.0, 100]]), program=0)
    notes = pm.instruments[0].notes
    assert [n.start for n in notes] == pytest.approx([0.5, 0.75, 0.75])
    assert [n.end for n in notes] == pytest.approx([0.75, 1.25, 1.75])
    assert [n.pitch for n in notes] == [60, 64, 67] and [n.velocity for n in notes] == [80, 90, 100]


def test_notes_midi_notes_round_trip(tmp_path):
    x = random_notes()
    write_midi(notes_to_midi(x), tmp_path / "x.mid")
    df = midi_to_notes(tmp_path / "x.mid", sustain="ignore")
    # midi_to_notes sorts chords by pitch; compare in the same (onset, pitch) order
    start = np.cumsum(x[:, 1])
    order = np.lexsort((x[:, 0], np.round(start / TICK)))
    x = x[order]
    assert df.pitch.tolist() == x[:, 0].astype(int).tolist()
    assert df.velocity.tolist() == x[:, 3].astype(int).tolist()
    np.testing.assert_allclose(df.start, start[order], atol=TICK)
    np.testing.assert_allclose(df.step, np.diff(start[order], prepend=start[order][0]), atol=2 * TICK)
    np.testing.assert_allclose(df.duration, x[:, 2], atol=2 * TICK)


def test_a_restruck_key_cuts_the_held_note(tmp_path):
    # onsets 0, 0.5, 0.5, 0.5: a long C, then C twice at once and a D
    x = np.array([[60, 0.0, 2.0, 80], [60, 0.5, 0.25, 90], [60, 0.0, 0.25, 70], [62, 0.0, 1.0, 70]])
    write_midi(notes_to_midi(x), tmp_path / "r.mid")
    df = midi_to_notes(tmp_path / "r.mid", sustain="ignore")
    # the 2 s note is cut at the re-strike; the doubled C at 0.5 s sounds once
    assert df.pitch.tolist() == [60, 60, 62]
    assert df.start.tolist() == pytest.approx([0.0, 0.5, 0.5])
    assert df.end.tolist() == pytest.approx([0.5, 0.75, 1.5])


def test_out_of_range_values_are_clipped():
    pm = notes_to_midi(np.array([[200, -1.0, 0.0, 0], [-5, 0.1, 0.5, 500.7]]))
    notes = pm.instruments[0].notes
    assert [n.pitch for n in notes] == [127, 0] and [n.velocity for n in notes] == [1, 127]
    assert notes[0].start == 0.0 and notes[0].end > notes[0].start


def test_bad_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(L, 4\)"):
        notes_to_midi(np.zeros((5, 3)))


def test_render_wav_without_soundfont_uses_sine_and_says_so_once(tmp_path, monkeypatch):
    import warnings

    monkeypatch.setattr(midi, "find_soundfont", lambda: None)
    monkeypatch.setattr(midi, "_warned", set())
    x = random_notes(12)
    pm = notes_to_midi(x)
    with pytest.warns(UserWarning, match="sine"):
        used = render_wav(pm, tmp_path / "x.wav", sample_rate=8000)
    assert used == "sine"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second WAV of a stage: no second warning
        assert render_wav(pm, tmp_path / "y.wav", sample_rate=8000) == "sine"
    (tmp_path / "y.wav").unlink()
    audio, sr = sf.read(tmp_path / "x.wav", dtype="float32")
    info = sf.info(tmp_path / "x.wav")
    assert sr == 8000 and info.subtype == "PCM_16" and audio.ndim == 1
    assert len(audio) >= pm.get_end_time() * sr * 0.99
    assert gated_rms(audio, sr) == pytest.approx(10 ** (TARGET_DBFS / 20), rel=0.05)  # normalised loudness
    assert np.abs(audio).max() <= PEAK + 1e-3  # not clipped
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wav"]  # no temp file left


def test_render_wav_with_missing_soundfont_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.sf2"):
        render_wav(notes_to_midi(random_notes(3)), tmp_path / "x.wav", soundfont=str(tmp_path / "nope.sf2"))


C_MAJOR = (60, 64, 67)
ONSET, HELD = 0.25, 1.5  # seconds


def c_major_chord():
    pm = notes_to_midi(np.array([[60, ONSET, HELD, 100], [64, 0.0, HELD, 100], [67, 0.0, HELD, 100]]))
    assert [n.pitch for n in pm.instruments[0].notes] == list(C_MAJOR)
    return pm


def piano_traits(audio: np.ndarray, sr: int) -> dict:
    """What separates a piano chord from a sum of sines: energy at the harmonics (2f) relative to
    the fundamentals, an attack (silence, then near the peak within 60 ms of the onset) and a
    decay while the keys are held."""
    seg = audio[int((ONSET + 0.05) * sr):int((ONSET + 1.05) * sr)]
    power = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
    freqs = np.fft.rfftfreq(len(seg), 1 / sr)
    band = lambda f: power[np.abs(freqs - f) < 4].sum()  # noqa: E731
    f0 = 440.0 * 2 ** ((np.array(C_MAJOR) - 69) / 12)
    n = int(0.01 * sr)
    env = np.sqrt((audio[: len(audio) // n * n].reshape(-1, n) ** 2).mean(1))  # 10 ms frames
    on = int(round(ONSET / 0.01))
    return {"fundamentals": min(band(f) for f in f0) / power.sum(),
            "harmonics": sum(band(2 * f) for f in f0) / sum(band(f) for f in f0),
            "before_onset": env[: on - 1].max() / env.max(),
            "attack": env[on: on + 6].max() / env.max(),
            "held_end": env[on + 120: on + 150].mean() / env.max()}


def test_a_soundfont_piano_is_chosen_whenever_a_soundfont_is_available(tmp_path):
    # pretty_midi's wheel ships TimGM6mb.sf2, so a soundfont is always found here: the sine
    # synth must not be what renders (this fails if the fallback is taken).
    assert midi.find_soundfont() is not None
    synth = choose_synth()
    assert synth.renderer != "sine" and synth.soundfont is not None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning either
        assert render_wav(c_major_chord(), tmp_path / "c.wav", sample_rate=22050) == synth.renderer


def test_c_major_chord_sounds_like_a_piano_not_a_sum_of_sines(tmp_path):
    pm = c_major_chord()
    assert render_wav(pm, tmp_path / "piano.wav", sample_rate=22050, synth=choose_synth()) != "sine"
    audio, sr = sf.read(tmp_path / "piano.wav", dtype="float64")
    piano = piano_traits(audio, sr)
    assert piano["fundamentals"] > 0.005  # the three notes are there, in tune
    assert piano["harmonics"] > 0.2  # and so are their overtones
    assert piano["before_onset"] < 0.01 and piano["attack"] > 0.5  # silence, then a struck onset
    assert piano["held_end"] < 0.35  # the sound dies away while the keys are held
    # The same checks on the sine synth's rendering: no overtones, so they tell the two apart.
    render_wav(pm, tmp_path / "sine.wav", sample_rate=22050, synth=SINE)
    sine = piano_traits(*sf.read(tmp_path / "sine.wav", dtype="float64"))
    assert sine["harmonics"] < 1e-4


def test_find_soundfont_falls_back_to_the_one_in_pretty_midi(monkeypatch):
    monkeypatch.delenv(midi.SOUNDFONT_ENV, raising=False)
    monkeypatch.setattr(midi, "SOUNDFONT_PLACES", ())
    assert midi.find_soundfont() == str(midi.BUNDLED_SOUNDFONT)


def test_a_failing_soundfont_renderer_falls_back_to_sine_with_a_warning(tmp_path, monkeypatch):
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"RIFF not a soundfont")
    monkeypatch.setattr(midi, "_warned", set())
    with pytest.warns(UserWarning, match="using pretty_midi's sine synth"):
        used = render_wav(c_major_chord(), tmp_path / "x.wav", synth=midi.Synth("midirenderer", str(broken)))
    assert used == "sine" and (tmp_path / "x.wav").exists()


def test_find_soundfont_honours_the_env(tmp_path, monkeypatch):
    sf2 = tmp_path / "piano.sf2"
    sf2.write_bytes(b"RIFF")
    monkeypatch.setenv(midi.SOUNDFONT_ENV, str(sf2))
    assert midi.find_soundfont() == str(sf2)


def test_piano_roll_pngs(tmp_path):
    x = random_notes(20)
    spans = note_spans(x)
    np.testing.assert_allclose(note_spans(notes_to_midi(x))[:, :3], spans[:, :3], atol=TICK)
    plot_piano_roll(x, tmp_path / "one.png", title="random")
    plot_piano_rolls([x, notes_to_midi(x), x[:0]], tmp_path / "grid.png", titles=["a", "b", "empty"])
    for name in ("one.png", "grid.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
