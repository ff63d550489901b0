"""`asr transcribe FILE...`: transcripts of audio files, computed in-process by the gateway's engine.

Prints the transcripts, or with `--format` writes each one as a file next to its input (or into
`--output-dir`), named like the input with the format's extension, as whisper's CLI does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import CommandError
from cli.lm import add_decoding_arguments, decoding_settings
from transcription.names import RESPONSE_FORMATS

if TYPE_CHECKING:  # the heavy imports wait until a command runs, so `asr --help` stays fast
    from audio_input import DecodedAudio
    from engine import Engine
    from service.config import Settings
    from transcription import Transcript

EPILOG = """examples:
  asr transcribe speech.wav                        # print the transcript (bundled demo model and its LM)
  asr transcribe speech.wav --no-lm                # greedy decoding only
  asr transcribe talk.mp3 --format srt             # write talk.srt next to talk.mp3
  asr transcribe *.wav --format vtt --output-dir subtitles/
  asr transcribe a.flac b.mp3 --model exports/wav2vec2
  asr transcribe *.wav --json > transcripts.jsonl  # one JSON object per file: text, words, segments
"""

# Files are named `<input stem>.<extension>`; verbose_json gets its own so it never overwrites the json file.
EXTENSIONS = {"json": ".json", "text": ".txt", "verbose_json": ".verbose.json", "srt": ".srt", "vtt": ".vtt"}
# tqdm shows the bar only once a file has taken this long: short files print no bar at all.
PROGRESS_DELAY_S = 1.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="transcribe audio files with a SavedModel, no server needed",
        description="Decode (WAV, FLAC, OGG, MP3; any rate and channels, any length), resample to 16 kHz, "
        "transcribe in chunks; print the transcripts or write them as json, text, srt or vtt files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--model", type=Path, help="SavedModel dir (NAME/ or NAME/VERSION/); default: bundled")
    parser.add_argument("--max-duration-s", type=float, help="refuse longer files (default: ASR_MAX_DURATION_H hours)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--format",
        choices=RESPONSE_FORMATS,
        help="write each transcript to FILE's name with this format's extension (.json, .txt, .verbose.json, .srt, "
        ".vtt), next to FILE or in --output-dir",
    )
    output.add_argument("--json", action="store_true", help="print one JSON object per file instead of plain text")
    parser.add_argument("--output-dir", type=Path, metavar="DIR", help="where --format files go (created if absent)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar (none is shown off a terminal)")
    add_decoding_arguments(parser)
    parser.set_defaults(func=run, inference_only=True)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from service.config import Settings

    if args.output_dir is not None and args.format is None:
        print("asr transcribe: --output-dir needs --format (which file to write)", file=sys.stderr)
        return 2
    # Every input is checked before the model loads (seconds): a typo in a file name is a usage error, at once.
    missing = [path for path in args.files if not path.is_file()]
    if missing:
        raise CommandError(f"no such audio file: {', '.join(str(path) for path in missing)}")
    settings = Settings(**{"model_path": args.model} if args.model else {}, **decoding_settings(args))
    max_duration_s = args.max_duration_s or settings.admission.max_duration_s
    show_progress = not args.quiet and sys.stderr.isatty()
    return asyncio.run(transcribe_files(settings, args, max_duration_s, show_progress))


def output_path(audio_path: Path, file_format: str, output_dir: Path | None) -> Path:
    """Returns where the transcript of `audio_path` is written: its name with the format's extension."""
    return (output_dir or audio_path.parent) / (audio_path.stem + EXTENSIONS[file_format])


def render_file(transcript: Transcript, file_format: str) -> str:
    """Returns the file contents of `transcript` in `file_format`; JSON is indented, text ends with a newline."""
    from transcription.formats import render

    rendered = render(transcript, file_format)
    if isinstance(rendered, dict):
        return json.dumps(rendered, ensure_ascii=False, indent=2) + "\n"
    return rendered if rendered.endswith("\n") or not rendered else rendered + "\n"


async def transcribe_files(
    settings: Settings, args: argparse.Namespace, max_duration_s: float, show_progress: bool
) -> int:
    """Transcribe `args.files` with the gateway's own engine, run in-process (same chunking, decoders, transcripts)."""
    from audio_input import AudioError, load_audio
    from engine import Engine
    from engine.errors import ServiceError
    from engine.sources.in_process import InProcessSource
    from transcription.formats import to_json
    from wav2vec2 import SAMPLE_RATE_HZ

    engine = Engine(settings, InProcessSource(settings))
    try:
        await engine.start()
    except ServiceError as error:
        print(f"asr transcribe: {error.message}", file=sys.stderr)
        return 2
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    try:
        for path in args.files:
            try:
                if path.stat().st_size == 0:
                    raise OSError("the file is empty (0 bytes)")
                audio = load_audio(path, SAMPLE_RATE_HZ, max_duration_s)
            except (OSError, AudioError) as error:
                print(f"asr transcribe: {path}: {error}", file=sys.stderr)
                failures += 1
                continue
            transcript = await _transcribe(engine, audio, path.name, show_progress)
            if args.format is not None:
                target = output_path(path, args.format, args.output_dir)
                target.write_text(render_file(transcript, args.format), encoding="utf-8")
                print(target)
            elif args.json:
                print(json.dumps({"file": str(path), **to_json(transcript)}, ensure_ascii=False))
            elif len(args.files) > 1:
                print(f"{path}\t{transcript.text}")
            else:
                print(transcript.text)
    finally:
        await engine.close()
    return 1 if failures else 0


async def _transcribe(engine: Engine, audio: DecodedAudio, name: str, show_progress: bool) -> Transcript:
    """Returns the engine's transcript of `audio`; a tqdm bar on stderr counts the audio seconds done."""
    from tqdm import tqdm

    with tqdm(
        total=round(audio.duration_s, 1),
        unit="s",
        desc=name,
        file=sys.stderr,
        delay=PROGRESS_DELAY_S,
        disable=not show_progress,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s audio [{elapsed}<{remaining}]",
    ) as bar:

        def advance(done_s: float) -> None:
            bar.update(min(round(done_s, 1), bar.total) - bar.n)

        return await engine.transcribe(audio.samples, on_progress=advance)
