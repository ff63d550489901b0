"""Sentences that make the demo model listen: many phrasings per intent, held-out templates, random word strings.

The first demo model learnt the grammar's ~30 templates so well that it recited them: words out of their
template order came back as the nearest template sentence (greedy CER 8 % on template sentences, 44 % on the
same words phrased otherwise). Three kinds of text fix and measure that:

- **phrasings** (training): each intent (devices, doors, weather, music, timers, lists, calls, where things are)
  said many ways, with "PLEASE", "CAN YOU", questions and statements, every word in several positions;
- **held-out templates**: whole templates that no training text uses, one group for the dev set (the LM's
  weights are tuned on it) and another for evaluation, so a score on them is a score on unseen word orders;
- **random word strings** over the vocabulary: in training they make word order useless as a cue; as an
  evaluation set they measure listening alone.

Hand-written re-phrasings (`sentences/rephrased_{dev,eval}.txt`) are the fourth kind, read from files.

    python -m demo_model.phrasings --out demo_model/sentences   # after demo_model.sentences
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from demo_model.sentences import (
    ANIMALS,
    CITIES,
    COLORS,
    DAYS,
    DEVICES,
    FOODS,
    GENRES,
    NAMES,
    ROOMS,
    THINGS,
    _clock,
    _digits,
    _number,
    vocabulary,
)
from demo_model.text import normalize_transcript

Template = tuple[str, float, Callable[[], str]]  # (name, weight, maker)

ON_OFF = ("ON", "OFF")
OPENINGS = ("DOOR", "WINDOW")
STATES = ("OPEN", "CLOSED", "LOCKED")
PLACES = ("TABLE", "CHAIR", "BED", "FLOOR", "BOX", "BAG")
WEATHER_WORDS = ("HOT", "COLD", "WARM", "SUNNY", "WINDY")
REQUESTS = ("PLEASE", "CAN YOU", "COULD YOU", "WOULD YOU", "I WANT YOU TO", "")


def _politely(rng: random.Random, command: str) -> str:
    """Returns `command` as people ask for it: bare, with a request in front, or "PLEASE" after."""
    request = rng.choice(REQUESTS)
    if request and rng.random() < 0.75:
        return f"{request} {command}"
    return f"{command} PLEASE" if rng.random() < 0.5 else command


def training_templates(rng: random.Random) -> list[Template]:
    """Returns the phrasings the model trains on (no held-out template repeats one of these word orders)."""
    c = rng.choice
    p = _politely
    return [
        ("device_in_room", 2.0, lambda: p(rng, f"TURN {c(ON_OFF)} THE {c(DEVICES)} IN THE {c(ROOMS)}")),
        ("device_switch", 1.5, lambda: p(rng, f"SWITCH {c(ON_OFF)} THE {c(ROOMS)} {c(DEVICES)}")),
        ("device_after", 1.0, lambda: p(rng, f"TURN THE {c(ROOMS)} {c(DEVICES)} {c(ON_OFF)}")),
        ("device_state", 1.5, lambda: f"THE {c(ROOMS)} {c(DEVICES)} {c(('IS', 'ARE'))} {c(ON_OFF)}"),
        ("device_question", 1.5, lambda: f"{c(('IS', 'ARE'))} THE {c(DEVICES)} {c(ON_OFF)}"),
        ("device_want", 1.0, lambda: f"I WANT THE {c(DEVICES)} {c(('ON', 'OFF', 'UP', 'DOWN'))}"),
        ("device_level", 1.0, lambda: p(rng, f"TURN {c(('UP', 'DOWN'))} THE {c(DEVICES)}")),
        ("opening_close", 1.5, lambda: p(rng, f"{c(('OPEN', 'CLOSE', 'LOCK'))} THE {c(ROOMS)} {c(OPENINGS)}")),
        ("opening_question", 1.5, lambda: f"IS THE {c(ROOMS)} {c(OPENINGS)} {c(STATES)}"),
        ("opening_state", 1.0, lambda: f"THE {c(OPENINGS)} IS {c(STATES)}"),
        ("opening_left", 1.0, lambda: f"DID YOU {c(('LOCK', 'CLOSE', 'OPEN'))} THE {c(OPENINGS)}"),
        ("weather_rain", 1.5, lambda: f"WILL IT {c(('RAIN', 'SNOW'))} IN {c(CITIES)} {c(DAYS)}"),
        ("weather_how", 1.0, lambda: f"HOW {c(WEATHER_WORDS[:3])} IS IT IN {c(CITIES)}"),
        ("weather_is_it", 1.0, lambda: f"IS IT {c(WEATHER_WORDS)} {c(('OUTSIDE', 'TODAY', 'NOW'))}"),
        ("weather_tell", 1.0, lambda: p(rng, f"TELL ME THE WEATHER FOR {c(DAYS)}")),
        ("weather_statement", 1.0, lambda: f"IT IS {c(WEATHER_WORDS)} IN {c(CITIES)} {c(DAYS)}"),
        ("temperature_room", 1.0, lambda: f"WHAT IS THE TEMPERATURE IN THE {c(ROOMS)}"),
        ("temperature_make", 1.0, lambda: p(rng, f"MAKE THE {c(ROOMS)} {c(('WARMER', 'COLDER'))}")),
        ("music_play", 1.5, lambda: p(rng, f"PLAY SOME {c(GENRES)} MUSIC")),
        ("music_stop", 1.0, lambda: p(rng, f"{c(('STOP', 'PAUSE'))} THE {c(('MUSIC', 'RADIO', 'TV'))}")),
        ("music_room", 1.0, lambda: f"PLAY {c(GENRES)} IN THE {c(ROOMS)} {c(('NOW', 'PLEASE', ''))}"),
        ("timer_set", 1.5, lambda: p(rng, f"SET AN ALARM FOR {_clock(rng)}")),
        ("timer_minutes", 1.0, lambda: p(rng, f"START A TIMER FOR {_number(rng)} MINUTES")),
        ("timer_cancel", 1.0, lambda: p(rng, f"{c(('CANCEL', 'STOP'))} THE {c(('TIMER', 'ALARM'))}")),
        ("timer_left", 0.5, lambda: "HOW MUCH TIME IS LEFT ON THE TIMER"),
        ("list_put", 1.5, lambda: p(rng, f"PUT {c(FOODS)} ON THE SHOPPING LIST")),
        ("list_need", 1.0, lambda: f"DO WE NEED {c(FOODS)}"),
        ("list_out", 1.0, lambda: f"WE ARE OUT OF {c(FOODS)}"),
        ("list_buy", 1.0, lambda: f"I NEED TO BUY {c(FOODS)} AND {c(FOODS)}"),
        ("call_name", 1.5, lambda: p(rng, f"CALL {c(NAMES)} {c(('NOW', 'TODAY', 'TOMORROW', ''))}")),
        ("message_tell", 1.0, lambda: p(rng, f"TELL {c(NAMES)} I AM {c(('HOME', 'LATE', 'READY'))}")),
        ("where_is", 1.5, lambda: f"WHERE IS {c(('MY', 'THE'))} {c(THINGS)}"),
        ("where_are", 1.0, lambda: f"WHERE ARE {c(('MY', 'THE'))} {c(('KEYS', 'EGGS', 'APPLES', 'BILLS'))}"),
        ("thing_in_room", 1.5, lambda: f"{c(('MY', 'THE'))} {c(THINGS)} IS IN THE {c(ROOMS)}"),
        ("thing_on_place", 1.0, lambda: f"THE {c(THINGS)} IS ON THE {c(PLACES)}"),
        ("person_in_room", 1.0, lambda: f"{c(NAMES)} IS IN THE {c(ROOMS)}"),
        ("animal_where", 1.0, lambda: f"THE {c(ANIMALS)} IS {c(('IN', 'ON'))} THE {c(PLACES + ROOMS)}"),
        ("color_thing", 1.0, lambda: f"I LIKE THE {c(COLORS)} {c(THINGS)}"),
        ("time_question", 1.0, lambda: c(("WHAT TIME IS IT NOW", "WHAT DAY IS IT TODAY", "IS IT LATE"))),
        ("code_digits", 1.0, lambda: f"{c(('THE', 'MY'))} {c(('CODE', 'NUMBER'))} IS {_digits(rng, 2, 6)}"),
    ]


def heldout_dev_templates(rng: random.Random) -> list[Template]:
    """Returns templates that appear only in the dev set: the LM's weights are tuned on unseen word orders."""
    c = rng.choice
    return [
        ("dev_device_room_please", 1.0, lambda: f"THE {c(DEVICES)} IN THE {c(ROOMS)} {c(ON_OFF)} PLEASE"),
        ("dev_going_to_be", 1.0, lambda: f"IS IT GOING TO BE {c(WEATHER_WORDS)} IN {c(CITIES)} {c(DAYS)}"),
        ("dev_where_did", 1.0, lambda: f"WHERE DID I PUT THE {c(THINGS)}"),
        ("dev_add_list", 1.0, lambda: f"CAN YOU ADD {c(FOODS)} AND {c(FOODS)} TO MY LIST"),
        ("dev_music_room", 1.0, lambda: f"I WANT {c(GENRES)} MUSIC IN THE {c(ROOMS)}"),
    ]


def heldout_eval_templates(rng: random.Random) -> list[Template]:
    """Returns templates that appear only in the evaluation set (never trained on, never tuned on)."""
    c = rng.choice
    return [
        ("eval_room_device_question", 1.0, lambda: f"IS THE {c(ROOMS)} {c(DEVICES)} STILL {c(ON_OFF)}"),
        ("eval_open_in_room", 1.0, lambda: f"PLEASE {c(('OPEN', 'CLOSE'))} THE {c(OPENINGS)} IN THE {c(ROOMS)}"),
        ("eval_weather_like", 1.0, lambda: f"WHAT IS THE WEATHER LIKE IN {c(CITIES)} {c(DAYS)}"),
        ("eval_thing_left", 1.0, lambda: f"I THINK MY {c(THINGS)} IS ON THE {c(PLACES)} IN THE {c(ROOMS)}"),
        ("eval_turn_everything", 1.0, lambda: f"TURN {c(ON_OFF)} ALL THE {c(('LIGHTS', 'LAMPS'))} IN THE {c(ROOMS)}"),
        ("eval_person_wants", 1.0, lambda: f"{c(NAMES)} WANTS {c(FOODS)} FOR {c(DAYS)}"),
    ]


def generate(templates: list[Template], count: int, rng: random.Random) -> list[str]:
    """Returns up to `count` distinct normalised sentences drawn from `templates` by weight."""
    weights = [weight for _, weight, _ in templates]
    makers = [maker for _, _, maker in templates]
    sentences: dict[str, None] = {}
    for _ in range(50 * count):
        if len(sentences) == count:
            break
        sentences.setdefault(normalize_transcript(rng.choices(makers, weights)[0]()), None)
    return list(sentences)


def random_word_strings(words: Sequence[str], count: int, rng: random.Random, low: int = 2, high: int = 8) -> list[str]:
    """Returns `count` strings of `low`..`high` words drawn uniformly from `words`: no word order to lean on."""
    vocabulary = sorted(set(words))
    return [" ".join(rng.choices(vocabulary, k=rng.randint(low, high))) for _ in range(count)]


def read_list(path: Path) -> list[str]:
    """Returns the non-empty lines of a sentence list, normalised."""
    return [normalize_transcript(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_lists(out: Path, seed: int = 0, counts: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Writes every list this module makes into `out`, plus `vocabulary.txt`; returns them by name.

    Reads the grammar's `train.txt` / `dev.txt` / `eval.txt` and the hand-written `rephrased_{dev,eval}.txt`
    from `out`. The vocabulary is every word of those and of the templates here; the random strings draw from
    it, so every word a held-out sentence uses is heard in training, in random company. No training sentence
    equals a held-out one.
    """
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    rng = random.Random(seed)
    lists = {
        "heldout_dev": generate(heldout_dev_templates(rng), counts["heldout_dev"], rng),
        "heldout_eval": generate(heldout_eval_templates(rng), counts["heldout_eval"], rng),
    }
    held_out = {*lists["heldout_dev"], *lists["heldout_eval"]}
    for name in ("dev", "eval", "rephrased_dev", "rephrased_eval"):
        held_out.update(read_list(out / f"{name}.txt"))
    lists["phrasings_train"] = [
        s for s in generate(training_templates(rng), counts["phrasings_train"], rng) if s not in held_out
    ]
    grammar = read_list(out / "train.txt")
    words = vocabulary([*grammar, *lists["phrasings_train"], *held_out])
    lists["random_train"] = random_word_strings(words, counts["random_train"], rng)
    lists["random_dev"] = random_word_strings(words, counts["random_dev"], random.Random(seed + 1))
    lists["random_eval"] = random_word_strings(words, counts["random_eval"], random.Random(seed + 2))
    for name, sentences in lists.items():
        (out / f"{name}.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    (out / "vocabulary.txt").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    return lists


DEFAULT_COUNTS = {
    "phrasings_train": 6000,
    "heldout_dev": 150,
    "heldout_eval": 200,
    "random_train": 5000,
    "random_dev": 40,
    "random_eval": 100,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the phrasing, held-out-template and random-word lists.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "sentences")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name, sentences in write_lists(args.out, args.seed).items():
        print(f"{name}: {len(sentences)} sentences, {len(vocabulary(sentences))} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
