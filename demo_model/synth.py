"""Gives speech for a sentence from a Debian synthesizer (espeak-ng, flite, festival) as 16 kHz mono float32.

Each engine is a command line writing a WAV file; this module is the one place that knows those command
lines. Festival voices are kept for evaluation only (see `EVAL_VOICES`): the demo model never trains on them.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from audio_input import AudioError, load_audio
from wav2vec2 import SAMPLE_RATE_HZ

ESPEAK_VARIANT_DIR = Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v")

# English espeak-ng languages (accents) and voice variants; mbrola voices need an extra binary: left out.
ESPEAK_LANGUAGES = ("en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029")
ESPEAK_VARIANTS = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3",
    "klatt4", "adam", "Alex", "Andy", "Annie", "belinda", "benjamin", "caleb", "david", "edward", "Gene",
    "iven", "john", "Lee", "linda", "max", "Michael", "Mike", "norbert", "paul", "quincy", "rob", "robert",
    "shelby", "steph", "travis", "victor", "zac", "croak",
)  # fmt: skip
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = ("voice_kal_diphone", "voice_cmu_us_slt_arctic_hts")  # evaluation only
# Festival voices that may train: a speaker neither eval voice has (Debian's festvox-kdlpc16k).
FESTIVAL_TRAINING_VOICES = ("voice_ked_diphone",)
# The Debian packages that provide each engine (and its voices); the corpus builder installs the missing ones.
DEBIAN_PACKAGES = {
    "espeak-ng": ("espeak-ng",),
    "flite": ("flite",),
    "festival": ("festival", "festvox-kallpc16k", "festvox-us-slt-hts", "festvox-kdlpc16k"),
}
ENGINE_COMMANDS = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}


class SynthesisError(RuntimeError):
    """A synthesizer is missing, failed, or gave no audio for a sentence."""


@dataclass(frozen=True)
class Voice:
    """One way to speak: engine, voice name, speaking rate and pitch (engine-specific knobs)."""

    engine: str
    name: str
    rate_wpm: int = 160  # espeak-ng -s
    pitch: int = 50  # espeak-ng -p, 0..99
    duration_stretch: float = 1.0  # flite and festival: >1 speaks slower

    def describe(self) -> str:
        """Returns a short tag for manifests and logs, e.g. `espeak-ng:en-us+f3:s170:p60`."""
        if self.engine == "espeak-ng":
            return f"{self.engine}:{self.name}:s{self.rate_wpm}:p{self.pitch}"
        return f"{self.engine}:{self.name}:x{self.duration_stretch:.2f}"


def espeak_variants() -> tuple[str, ...]:
    """Returns the `ESPEAK_VARIANTS` this machine's espeak-ng has (all, once the package is installed)."""
    return tuple(v for v in ESPEAK_VARIANTS if not v or (ESPEAK_VARIANT_DIR / v).is_file())


def random_training_voice(rng: random.Random, variants: tuple[str, ...]) -> Voice:
    """Returns a random espeak-ng (3 in 5), flite (3 in 10) or festival training voice, at a random rate / pitch."""
    draw = rng.random()
    if draw < 0.1:
        stretch = round(rng.uniform(0.85, 1.25), 2)
        return Voice("festival", rng.choice(FESTIVAL_TRAINING_VOICES), duration_stretch=stretch)
    if draw < 0.7:
        language = rng.choice(ESPEAK_LANGUAGES)
        variant = rng.choice(variants)
        name = f"{language}+{variant}" if variant else language
        return Voice("espeak-ng", name, rate_wpm=rng.randint(120, 210), pitch=rng.randint(25, 85))
    return Voice("flite", rng.choice(FLITE_VOICES), duration_stretch=round(rng.uniform(0.85, 1.25), 2))


def eval_voices() -> tuple[Voice, ...]:
    """Returns the festival voices of the evaluation set, at their natural speed."""
    return tuple(Voice("festival", name) for name in FESTIVAL_VOICES)


def missing_engines() -> list[str]:
    """Returns the engines whose command is not on PATH."""
    return [engine for engine, command in ENGINE_COMMANDS.items() if shutil.which(command) is None]


def _command(voice: Voice, text: str, wav_path: Path) -> tuple[list[str], str | None]:
    """Returns the command line writing `text` spoken by `voice` to `wav_path`, and its stdin."""
    # Synthesizers spell some all-caps words letter by letter ("US"): give them lowercase text.
    spoken = text.lower()
    if voice.engine == "espeak-ng":
        # espeak-ng falls back to its default voice on an unknown name without a word: check it here.
        language, _, variant = voice.name.partition("+")
        if language not in ESPEAK_LANGUAGES or variant not in ESPEAK_VARIANTS:
            raise SynthesisError(f"unknown espeak-ng voice {voice.name!r}; languages {ESPEAK_LANGUAGES}")
        args = ["espeak-ng", "-v", voice.name, "-s", str(voice.rate_wpm), "-p", str(voice.pitch)]
        return [*args, "-w", str(wav_path), spoken], None
    if voice.engine == "flite":
        stretch = ["--setf", f"duration_stretch={voice.duration_stretch}"]
        return ["flite", "-voice", voice.name, *stretch, "-t", spoken, "-o", str(wav_path)], None
    if voice.engine == "festival":
        setup = f"({voice.name}) (Parameter.set 'Duration_Stretch {voice.duration_stretch})"
        return ["text2wave", "-eval", setup, "-o", str(wav_path)], spoken
    raise SynthesisError(f"unknown engine {voice.engine!r}; expected one of {sorted(ENGINE_COMMANDS)}")


def synthesize(voice: Voice, text: str) -> np.ndarray:
    """Returns `text` spoken by `voice`: float32 [samples] at 16 kHz, mono."""
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        wav_path = Path(tmp) / "out.wav"
        command, stdin = _command(voice, text, wav_path)
        try:
            subprocess.run(command, input=stdin, text=True, capture_output=True, check=True, timeout=60)
        except FileNotFoundError as error:
            raise SynthesisError(f"{command[0]} is not installed: {error}") from error
        except subprocess.CalledProcessError as error:
            raise SynthesisError(f"{voice.describe()} failed on {text!r}: {error.stderr.strip()}") from error
        if not wav_path.is_file():
            raise SynthesisError(f"{voice.describe()} wrote no audio for {text!r}")
        try:
            audio = read_16k_mono(wav_path)
        except AudioError as error:
            raise SynthesisError(f"{voice.describe()} wrote unreadable audio for {text!r}: {error}") from error
    if audio.size == 0 or not np.any(audio):
        raise SynthesisError(f"{voice.describe()} gave silence for {text!r}")
    return audio


def read_16k_mono(path: str | Path) -> np.ndarray:
    """Returns the audio file at `path` as float32 [samples] at 16 kHz, mono (`audio_input.load_audio`)."""
    return load_audio(path, SAMPLE_RATE_HZ).samples


def write_16k_wav(path: str | Path, audio: np.ndarray) -> None:
    """Writes float32 [samples] at 16 kHz as 16-bit PCM WAV (clipped to [-1, 1])."""
    sf.write(path, np.clip(audio, -1.0, 1.0), SAMPLE_RATE_HZ, subtype="PCM_16")
