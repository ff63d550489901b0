"""A tiny end-to-end corpus build: manifests the training reader accepts, disjoint sets, attribution kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from demo_model.build_corpus import MANIFESTS, main
from training.data.sources import Utterance, manifest_utterances

pytestmark = pytest.mark.skipif(
    any(shutil.which(command) is None for command in ("espeak-ng", "flite", "text2wave")),
    reason="synthesizers not installed (python -m demo_model.build_corpus installs them)",
)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """An FSDD-like folder (2 speakers x 2 digits x 50 takes, with README) and tiny sentence lists."""
    recordings = tmp_path / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    (recordings.parent / "README.md").write_text("FSDD, CC BY-SA 4.0\n")
    rng = np.random.default_rng(0)
    for speaker in ("jackson", "lucas"):
        for digit in (3, 7):
            for take in range(50):
                sf.write(recordings / f"{digit}_{speaker}_{take}.wav", 0.1 * rng.standard_normal(2000), 8000)
    sentences = tmp_path / "sentences"
    sentences.mkdir()
    (sentences / "train.txt").write_text("TURN ON THE LIGHTS\nSEVEN THREE\n")
    (sentences / "dev.txt").write_text("TURN OFF THE LIGHTS\n")
    (sentences / "eval.txt").write_text("THE LIGHTS ARE ON\nTHREE SEVEN SEVEN\n")
    (sentences / "random_train.txt").write_text("LIGHTS SEVEN ON\nTHE THREE\n")
    (sentences / "rephrased_dev.txt").write_text("THE LIGHTS ARE OFF\n")
    (sentences / "heldout_dev.txt").write_text("LIGHTS OFF PLEASE\n")
    (sentences / "random_dev.txt").write_text("SEVEN LIGHTS\n")
    (sentences / "rephrased_eval.txt").write_text("ARE THE LIGHTS ON\n")
    (sentences / "heldout_eval.txt").write_text("THE LIGHTS OFF PLEASE\n")
    (sentences / "random_eval.txt").write_text("ON THREE LIGHTS\n")
    return recordings, sentences


def test_build_writes_manifests_the_training_reader_accepts(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    recordings, sentences = inputs
    out = tmp_path / "corpus"
    argv = ["--out", str(out), "--fsdd", str(recordings), "--sentences", str(sentences), "--synthetic-train",
            "6", "--synthetic-dev", "1", "--festival-sentences", "2", "--fsdd-sequences", "3",
            "--random-train", "2", "--listening-dev-voices", "2", "--listening-eval-sentences", "5",
            "--no-install", "--no-prepare"]  # fmt: skip
    assert main(argv) == 0

    sets = {name: list(manifest_utterances(out / f"{name}.tsv")) for name in MANIFESTS}
    assert all(isinstance(item, Utterance) for items in sets.values() for item in items)
    # train: 90 FSDD takes x (clean + augmented) + 3 sequences + 6 synthetic + 2 random strings; dev: 10 takes
    # + 1 sentence; dev_listening: 3 dev sentences x 2 voices; each festival set: its sentences x 2 voices.
    counts = dict(zip(MANIFESTS, [191, 11, 6, 100, 4, 2, 2, 2], strict=True))
    assert {name: len(sets[name]) for name in MANIFESTS} == counts
    assert {u.transcript for u in sets["eval_rephrased"]} == {"ARE THE LIGHTS ON"}
    assert {u.transcript for u in sets["dev_listening"]} == {"THE LIGHTS ARE OFF", "LIGHTS OFF PLEASE", "SEVEN LIGHTS"}
    assert {u.transcript for u in sets["eval_fsdd_heldout"]} == {"THREE", "SEVEN"}
    assert {u.transcript for u in sets["eval_festival"]} == {"THE LIGHTS ARE ON", "THREE SEVEN SEVEN"}
    train_texts = {u.transcript for u in sets["train"]}
    for name in ("eval_festival", "eval_rephrased", "eval_heldout_template", "dev_listening"):
        assert not train_texts & {u.transcript for u in sets[name]}
    ids = [u.utterance_id for items in sets.values() for u in items]
    assert len(ids) == len(set(ids))  # the TFRecord writer keys utterances by file stem
    info = sf.info(sets["eval_fsdd_heldout"][0].audio_path)
    assert (info.samplerate, info.channels) == (16000, 1)
    assert "CC BY-SA 4.0" in (out / "FSDD-ATTRIBUTION.md").read_text()
    assert "eval_festival words never in train" in (out / "summary.txt").read_text()


def test_a_requested_list_that_is_missing_is_a_clear_error(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    recordings, sentences = inputs
    (sentences / "random_eval.txt").unlink()
    argv = ["--out", str(tmp_path / "corpus"), "--fsdd", str(recordings), "--sentences", str(sentences),
            "--listening-eval-sentences", "1", "--no-install", "--no-prepare"]  # fmt: skip
    with pytest.raises(SystemExit, match="random_eval.txt is missing"):
        main(argv)
