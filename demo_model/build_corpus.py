"""Builds the demo model's corpus from scratch: WAVs + `path<TAB>TRANSCRIPT` manifests (+ TFRecords).

    python -m demo_model.build_corpus --out artifacts/corpus          # ~3 h of training audio, ~10 min

Sets (see demo_model/README.md for why each exists):
- train: FSDD digits of four speakers (clean, augmented, and joined into digit sequences) + grammar
  sentences spoken by espeak-ng and flite voices, augmented.
- dev: late FSDD takes of the same four speakers + dev sentences by espeak-ng / flite, clean.
- eval_fsdd_heldout: every recording of the held-out FSDD speaker, never trained on.
- eval_festival: eval sentences spoken by festival voices, never trained on (neither voices nor sentences).
Missing Debian synthesizers are installed with apt-get (root) unless --no-install.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from demo_model import fsdd
from demo_model.augment import pad_silence, random_augment
from demo_model.sentences import sample_covering
from demo_model.synth import (
    DEBIAN_PACKAGES,
    ENGINE_COMMANDS,
    SynthesisError,
    Voice,
    espeak_variants,
    eval_voices,
    missing_engines,
    random_training_voice,
    read_16k_mono,
    synthesize,
    write_16k_wav,
)
from wav2vec2 import SAMPLE_RATE_HZ

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FSDD = REPO_ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
DEFAULT_SENTENCES = Path(__file__).resolve().parent / "sentences"
MANIFESTS = (
    "train", "dev", "dev_listening", "eval_fsdd_heldout", "eval_festival", "eval_heldout_template",
    "eval_rephrased", "eval_random",
)  # fmt: skip
PREPARED_SETS = ("train", "dev", "dev_listening")  # the sets `asr prepare` turns into TFRecords for `asr train`
# Evaluation sets spoken by festival's eval-only voices: (manifest, sentence list, kind in the utterance id).
# The option says how many sentences of the list each voice speaks.
FESTIVAL_SETS = (
    ("eval_festival", "eval.txt", "festival", "festival_sentences"),
    ("eval_heldout_template", "heldout_eval.txt", "heldtpl", "listening_eval_sentences"),
    ("eval_rephrased", "rephrased_eval.txt", "rephrased", "listening_eval_sentences"),
    ("eval_random", "random_eval.txt", "random", "listening_eval_sentences"),
)
# Held-out lists spoken by training voices for the dev set the LM's weights are tuned on.
LISTENING_DEV_LISTS = ("heldout_dev.txt", "rephrased_dev.txt", "random_dev.txt")
# Extra training lists (demo_model/phrasings.py) and the option that says how many utterances each gives.
EXTRA_TRAIN_LISTS = (("phrasings_train.txt", "phrasings_train", "phrase"), ("random_train.txt", "random_train", "rand"))

logger = logging.getLogger("demo_model.build_corpus")


@dataclass(frozen=True)
class Job:
    """One utterance to make: from a synthesizer (`voice`) or from FSDD files (`sources`), then write it."""

    manifest: str
    utterance_id: str
    transcript: str
    seed: int
    voice: Voice | None = None
    sources: tuple[Path, ...] = ()
    augment: bool = False


@dataclass
class Result:
    """What a worker made of a job: the WAV it wrote (relative to the corpus root) or why it failed."""

    job: Job
    relative_path: str = ""
    duration_s: float = 0.0
    error: str = ""
    augmentations: list[str] = field(default_factory=list)


def make_utterance(job: Job, out_dir: Path, max_duration_s: float) -> Result:
    """Returns the result of synthesizing or joining, augmenting and writing one utterance."""
    rng = random.Random(job.seed)
    try:
        if job.voice is not None:
            audio = synthesize(job.voice, job.transcript)
        else:
            audio = fsdd.join_with_gaps([read_16k_mono(path) for path in job.sources], rng)
    except (SynthesisError, OSError, RuntimeError) as error:
        return Result(job, error=str(error))
    augmentations: list[str] = []
    if job.augment:
        audio, augmentations = random_augment(audio, rng)
    elif job.voice is not None:
        audio = pad_silence(audio, 0.1, 0.1)
    duration_s = audio.shape[0] / SAMPLE_RATE_HZ
    if job.manifest == "train" and duration_s > max_duration_s:
        return Result(job, duration_s=duration_s, error=f"longer than {max_duration_s} s")
    relative_path = Path("wav") / job.manifest / f"{job.utterance_id}.wav"
    write_16k_wav(out_dir / relative_path, audio)
    return Result(job, relative_path.as_posix(), duration_s, augmentations=augmentations)


def _read_sentences(path: Path) -> list[str]:
    if not path.is_file():
        raise SystemExit(f"sentence list {path} is missing: run `python -m demo_model.sentences`")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plan_jobs(args: argparse.Namespace) -> list[Job]:
    """Returns every utterance to make, deterministic for a given --seed."""
    rng = random.Random(args.seed)
    jobs: list[Job] = []

    def add(manifest: str, kind: str, transcript: str, **kwargs) -> None:
        utterance_id = f"{manifest}-{kind}-{len(jobs):06d}"
        jobs.append(Job(manifest, utterance_id, transcript, rng.getrandbits(32), **kwargs))

    groups = fsdd.split_recordings(fsdd.list_recordings(args.fsdd), args.heldout_speaker)
    for recording in groups["train"]:
        for copy in range(1 + args.fsdd_augmented_copies):
            add("train", "fsdd", recording.transcript, sources=(recording.path,), augment=copy > 0)
    for _ in range(args.fsdd_sequences):
        takes = fsdd.pick_sequence(groups["train"], rng)
        text = " ".join(take.transcript for take in takes)
        add("train", "fsddseq", text, sources=tuple(take.path for take in takes), augment=rng.random() < 0.7)
    for recording in groups["dev"]:
        add("dev", "fsdd", recording.transcript, sources=(recording.path,))
    for recording in groups["eval"]:
        add("eval_fsdd_heldout", "fsdd", recording.transcript, sources=(recording.path,))

    variants = espeak_variants()
    train_sentences = _read_sentences(args.sentences / "train.txt")
    for sentence in sample_covering(train_sentences, args.synthetic_train, rng):
        add("train", "synth", sentence, voice=random_training_voice(rng, variants), augment=True)
    dev_sentences = _read_sentences(args.sentences / "dev.txt")
    for sentence in rng.sample(dev_sentences, min(args.synthetic_dev, len(dev_sentences))):
        add("dev", "synth", sentence, voice=random_training_voice(rng, variants))
    for file_name, option, kind in EXTRA_TRAIN_LISTS:
        count = getattr(args, option)
        if count:
            sentences = _read_sentences(args.sentences / file_name)
            for sentence in sample_covering(sentences, count, rng):
                add("train", kind, sentence, voice=random_training_voice(rng, variants), augment=True)
    for file_name in LISTENING_DEV_LISTS if args.listening_dev_voices else ():
        for sentence in _read_sentences(args.sentences / file_name):
            for _ in range(args.listening_dev_voices):
                add("dev_listening", "synth", sentence, voice=random_training_voice(rng, variants))
    for manifest, file_name, kind, option in FESTIVAL_SETS:
        limit = getattr(args, option)
        if not limit:
            continue
        sentences = _read_sentences(args.sentences / file_name)
        for sentence in rng.sample(sentences, min(limit, len(sentences))):
            for voice in eval_voices():
                add(manifest, kind, sentence, voice=voice)
    return jobs


def install_synthesizers() -> None:
    """Installs the Debian packages of any synthesizer missing from PATH (needs root and apt)."""
    missing = missing_engines()
    if not missing:
        return
    packages = sorted({package for engine in missing for package in DEBIAN_PACKAGES[engine]})
    logger.info("installing %s with apt-get", " ".join(packages))
    apt = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    environment = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if subprocess.run(apt, env=environment).returncode != 0:
        subprocess.run(["apt-get", "update"], env=environment, check=True)
        subprocess.run(apt, env=environment, check=True)
    still_missing = missing_engines()
    if still_missing:
        commands = [ENGINE_COMMANDS[engine] for engine in still_missing]
        raise SystemExit(f"still missing after apt-get: {', '.join(commands)}")


def write_manifests(results: list[Result], out_dir: Path) -> None:
    """Writes `<set>.tsv` per set: `path<TAB>TRANSCRIPT`, paths relative to `out_dir`, sorted by path."""
    rows: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if not result.error:
            rows[result.job.manifest].append(f"{result.relative_path}\t{result.job.transcript}")
    for name in MANIFESTS:
        (out_dir / f"{name}.tsv").write_text("".join(row + "\n" for row in sorted(rows[name])), "utf-8")


def summarize(results: list[Result], elapsed_s: float) -> str:
    """Returns a table: utterances and hours per set and source, failures, words, wall time."""
    count: Counter[tuple[str, str]] = Counter()
    seconds: Counter[tuple[str, str]] = Counter()
    failures: Counter[str] = Counter()
    words: dict[str, set[str]] = defaultdict(set)
    for result in results:
        source = result.job.voice.engine if result.job.voice else result.job.utterance_id.split("-")[1]
        if result.error:
            failures[result.error if "longer than" in result.error else "synthesis failed"] += 1
            continue
        for key in ((result.job.manifest, source), (result.job.manifest, "all")):
            count[key] += 1
            seconds[key] += result.duration_s
        words[result.job.manifest].update(result.job.transcript.split())
    lines = [f"{'set':<18} {'source':<10} {'utterances':>10} {'hours':>7} {'mean s':>7}"]
    for manifest, source in sorted(count, key=lambda key: (MANIFESTS.index(key[0]), key[1] != "all", key[1])):
        n, total = count[manifest, source], seconds[manifest, source]
        lines.append(f"{manifest:<18} {source:<10} {n:>10} {total / 3600:>7.2f} {total / n:>7.2f}")
    lines.append("distinct words: " + ", ".join(f"{name} {len(words[name])}" for name in MANIFESTS))
    for name in MANIFESTS[4:]:
        unseen = words[name] - words["train"]
        lines.append(f"{name} words never in train: {sorted(unseen) or 'none'}")
    lines.append(f"skipped: {dict(failures) or 'none'}; wall time {elapsed_s / 60:.1f} min")
    return "\n".join(lines)


def run_prepare(out_dir: Path) -> bool:
    """Runs `asr prepare` on the train and dev manifests if this checkout has it; returns whether it ran."""
    command = [sys.executable, "-m", "cli.main", "prepare"]
    probe = subprocess.run([*command, "--help"], cwd=REPO_ROOT, capture_output=True, text=True)
    if probe.returncode != 0:
        logger.warning("`asr prepare` is not available yet; run later, from the repo root:")
        for name in PREPARED_SETS:
            logger.warning("  python -m cli.main prepare --manifest %s --out %s --prefix %s",
                           out_dir / f"{name}.tsv", out_dir / "tfrecords" / name, name)  # fmt: skip
        return False
    for name in PREPARED_SETS:
        target = out_dir / "tfrecords" / name
        subprocess.run(
            [*command, "--manifest", str(out_dir / f"{name}.tsv"), "--out", str(target), "--prefix", name],
            cwd=REPO_ROOT,
            check=True,
        )
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "artifacts" / "corpus")
    parser.add_argument("--fsdd", type=Path, default=DEFAULT_FSDD, help="FSDD recordings folder")
    parser.add_argument("--heldout-speaker", default=fsdd.HELDOUT_SPEAKER)
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES, help="train/dev/eval.txt folder")
    parser.add_argument("--synthetic-train", type=int, default=2500, help="synthetic training utterances")
    parser.add_argument("--synthetic-dev", type=int, default=300)
    parser.add_argument("--festival-sentences", type=int, default=200, help="eval sentences, x2 voices")
    parser.add_argument("--phrasings-train", type=int, default=0, help="training utterances from phrasings_train.txt")
    parser.add_argument("--random-train", type=int, default=0, help="training utterances from random_train.txt")
    parser.add_argument(
        "--listening-dev-voices",
        type=int,
        default=0,
        help="training voices speaking each held-out dev sentence (the LM tuning set)",
    )
    parser.add_argument(
        "--listening-eval-sentences",
        type=int,
        default=0,
        help="sentences per held-out eval set (templates, re-phrased, random), x2 festival voices",
    )
    parser.add_argument("--fsdd-augmented-copies", type=int, default=1, help="per FSDD training file")
    parser.add_argument("--fsdd-sequences", type=int, default=800, help="FSDD takes joined into sequences")
    parser.add_argument("--max-duration-s", type=float, default=5.0, help="longer training clips are dropped")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-install", action="store_true", help="do not apt-get missing synthesizers")
    parser.add_argument("--no-prepare", action="store_true", help="do not run `asr prepare` afterwards")
    return parser.parse_args(argv)


def _make(job: Job) -> Result:
    return make_utterance(job, _make.out_dir, _make.max_duration_s)  # type: ignore[attr-defined]


def _init_worker(out_dir: Path, max_duration_s: float) -> None:
    _make.out_dir, _make.max_duration_s = out_dir, max_duration_s  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    if not args.no_install:
        install_synthesizers()
    started = time.monotonic()
    out_dir = args.out.resolve()
    if (out_dir / "wav").exists():
        shutil.rmtree(out_dir / "wav")
    jobs = plan_jobs(args)
    for name in MANIFESTS:
        (out_dir / "wav" / name).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.fsdd.parent / "README.md", out_dir / "FSDD-ATTRIBUTION.md")
    logger.info("making %d utterances with %d workers into %s", len(jobs), args.workers, out_dir)
    with multiprocessing.Pool(args.workers, _init_worker, (out_dir, args.max_duration_s)) as pool:
        results = list(tqdm(pool.imap_unordered(_make, jobs, chunksize=16), total=len(jobs), unit="utt", mininterval=5))
    write_manifests(results, out_dir)
    summary = summarize(results, time.monotonic() - started)
    (out_dir / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    for result in results:
        if result.error and "longer than" not in result.error:
            logger.warning("%s: %s", result.job.utterance_id, result.error)
    print("manifests: " + ", ".join(str(out_dir / f"{name}.tsv") for name in MANIFESTS))
    if not args.no_prepare:
        run_prepare(out_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
