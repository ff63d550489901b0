"""Generates the demo corpus's English sentences from a small grammar, and splits them into disjoint sets.

Why a grammar and not a text package: the demo model is trained from random init for about an hour on two
CPU cores, which is enough to learn a few hundred words in short, regular sentences, not open English.
The grammar keeps the vocabulary small (digits and numbers first: they are what the FSDD check measures)
and every sentence under about four seconds of speech. Sentences are assigned to train / dev / eval by a
hash of their text, so a sentence can never be in two sets, whatever the seed.

    python -m demo_model.sentences --out demo_model/sentences   # rewrites the committed lists
"""

from __future__ import annotations

import argparse
import hashlib
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from demo_model.text import DIGIT_WORDS, normalize_transcript, number_to_words

ROOMS = ("KITCHEN", "BEDROOM", "BATHROOM", "OFFICE", "GARAGE", "HALL", "LIVING ROOM", "GARDEN", "BASEMENT")
DEVICES = ("LIGHTS", "LIGHT", "FAN", "HEATER", "RADIO", "TV", "OVEN", "LAMP", "MUSIC", "ALARM", "PRINTER")
NAMES = ("JOHN", "MARY", "DAVID", "SARAH", "PETER", "ANNA", "JAMES", "EMMA", "PAUL", "LUCY", "MOM", "DAD")
CITIES = ("BOSTON", "LONDON", "PARIS", "BERLIN", "CHICAGO", "DENVER", "TORONTO", "MADRID", "TOKYO", "DUBLIN")
COLORS = ("RED", "BLUE", "GREEN", "BLACK", "WHITE", "YELLOW", "BROWN", "ORANGE", "PINK", "GRAY")
ANIMALS = ("DOG", "CAT", "BIRD", "HORSE", "FISH", "COW", "DUCK", "FOX", "BEAR", "MOUSE")
THINGS = ("BOOK", "CAR", "DOOR", "WINDOW", "TABLE", "CHAIR", "BOX", "BAG", "CUP", "KEY", "PHONE", "BALL")
FOODS = ("MILK", "BREAD", "EGGS", "APPLES", "RICE", "CHEESE", "COFFEE", "TEA", "BUTTER", "SUGAR", "WATER")
UNITS = ("MINUTES", "SECONDS", "HOURS", "DAYS", "DEGREES", "PERCENT", "DOLLARS", "MILES", "STEPS")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY", "TODAY", "TOMORROW")
ADJECTIVES = ("BIG", "SMALL", "OLD", "NEW", "HOT", "COLD", "FAST", "SLOW", "GOOD", "BAD", "HAPPY", "QUIET")
VERBS_PAST = ("SAW", "FOUND", "TOOK", "LIKED", "WANTED", "MOVED", "OPENED", "CLOSED", "CLEANED", "BROKE")
TASKS = ("CALL MOM", "BUY MILK", "WALK THE DOG", "PAY THE BILLS", "TAKE MY PILLS", "WATER THE PLANTS",
         "CLEAN THE KITCHEN", "SEND THE EMAIL", "LOCK THE DOOR", "FEED THE CAT")  # fmt: skip
GENRES = ("JAZZ", "ROCK", "POP", "CLASSICAL", "COUNTRY", "BLUES", "SOME", "QUIET", "HAPPY")
QUESTIONS = ("WHAT TIME IS IT", "WHAT DAY IS IT", "HOW ARE YOU", "WHERE ARE MY KEYS", "WHO IS AT THE DOOR",
             "IS IT GOING TO RAIN", "CAN YOU HEAR ME", "WHAT IS YOUR NAME", "HOW FAR IS IT",
             "DO WE HAVE ANY MILK", "WHY IS IT SO COLD", "WHEN DOES THE SHOP OPEN")  # fmt: skip
PHRASES = ("YES", "NO", "STOP", "GO", "HELLO", "GOODBYE", "THANK YOU", "PLEASE", "CANCEL", "OKAY",
           "I DON'T KNOW", "THAT'S RIGHT", "I CAN'T HEAR YOU", "IT'S LATE", "LET'S GO", "WE'RE HOME",
           "I'M READY", "YOU'RE WELCOME", "GOOD MORNING", "GOOD NIGHT")  # fmt: skip

Pick = Callable[[Sequence[str]], str]


def _digits(rng: random.Random, low: int = 1, high: int = 7) -> str:
    return " ".join(rng.choice(DIGIT_WORDS) for _ in range(rng.randint(low, high)))


def _number(rng: random.Random) -> str:
    # Mostly small numbers (the ones people say most), some up to four digits.
    high = rng.choice((10, 20, 100, 100, 1000, 10000))
    return number_to_words(rng.randrange(high))


def _clock(rng: random.Random) -> str:
    hour = number_to_words(rng.randint(1, 12))
    minute = rng.choice((0, 5, 10, 15, 20, 30, 45, rng.randint(1, 59)))
    if minute == 0:
        return f"{hour} O'CLOCK"
    return f"{hour} {'OH ' + number_to_words(minute) if minute < 10 else number_to_words(minute)}"


def _plural(noun: str) -> str:
    irregular = {"MOUSE": "MICE", "FISH": "FISH", "FOX": "FOXES"}
    return irregular.get(noun, noun + "S")


def _count_of(rng: random.Random, noun: str) -> str:
    number = _number(rng)
    return f"{number} {noun if number == 'ONE' else _plural(noun)}"


def _templates(rng: random.Random) -> list[tuple[float, Callable[[], str]]]:
    """Returns (weight, maker) pairs; digits and numbers get most of the weight."""
    c = rng.choice
    return [
        (14.0, lambda: _digits(rng)),
        (4.0, lambda: c(DIGIT_WORDS)),
        (3.0, lambda: f"MY NUMBER IS {_digits(rng, 3, 7)}"),
        (2.0, lambda: f"CALL {c(NAMES)} AT {_digits(rng, 3, 6)}"),
        (2.0, lambda: f"THE CODE IS {_digits(rng, 2, 5)}"),
        (4.0, lambda: _number(rng)),
        (2.0, lambda: f"SET A TIMER FOR {_number(rng)} {c(UNITS[:3])}"),
        (2.0, lambda: f"IT COSTS {_number(rng)} DOLLARS"),
        (2.0, lambda: f"WAKE ME UP AT {_clock(rng)}"),
        (1.5, lambda: f"THE MEETING IS AT {_clock(rng)} ON {c(DAYS)}"),
        (1.5, lambda: f"SET THE TEMPERATURE TO {_number(rng)} DEGREES"),
        (1.0, lambda: f"I WALKED {_number(rng)} {c(('MILES', 'STEPS'))} {c(DAYS)}"),
        (1.0, lambda: f"ROOM {_number(rng)}"),
        (2.0, lambda: f"TURN {c(('ON', 'OFF'))} THE {c(ROOMS)} {c(DEVICES)}"),
        (1.0, lambda: f"TURN THE {c(DEVICES)} {c(('UP', 'DOWN', 'ON', 'OFF'))}"),
        (1.5, lambda: f"PLAY {c(GENRES)} MUSIC IN THE {c(ROOMS)}"),
        (1.5, lambda: f"WHAT IS THE WEATHER IN {c(CITIES)} {c(DAYS)}"),
        (1.5, lambda: f"SEND A MESSAGE TO {c(NAMES)}"),
        (1.5, lambda: f"ADD {c(FOODS)} TO THE SHOPPING LIST"),
        (1.5, lambda: f"REMIND ME TO {c(TASKS)} AT {_clock(rng)}"),
        (1.5, lambda: f"THE {c(COLORS)} {c(ANIMALS)} {c(VERBS_PAST)} THE {c(ADJECTIVES)} {c(THINGS)}"),
        (1.0, lambda: f"{c(NAMES)} {c(VERBS_PAST)} A {c(COLORS)} {c(THINGS)}"),
        (1.0, lambda: f"I HAVE {_count_of(rng, c(ANIMALS))}"),
        (1.0, lambda: f"{c(NAMES)} IS IN {c(CITIES)}"),
        (1.0, lambda: f"THE {c(THINGS)} IS {c(ADJECTIVES)}"),
        (1.0, lambda: f"WE NEED {_number(rng)} {c(FOODS)}"),
        (1.0, lambda: f"OPEN THE {c(ROOMS)} {c(('DOOR', 'WINDOW'))}"),
        (1.0, lambda: c(QUESTIONS)),
        (1.0, lambda: c(PHRASES)),
        (0.5, lambda: f"{c(PHRASES)} {c(NAMES)}"),
    ]


def generate_sentences(count: int, seed: int = 0) -> list[str]:
    """Returns `count` distinct sentences from the grammar, in generation order (deterministic per seed)."""
    rng = random.Random(seed)
    templates = _templates(rng)
    weights = [weight for weight, _ in templates]
    makers = [maker for _, maker in templates]
    sentences: dict[str, None] = {}
    attempts = 0
    while len(sentences) < count:
        attempts += 1
        if attempts > 50 * count:
            raise ValueError(f"the grammar ran out of distinct sentences after {len(sentences)} of {count}")
        sentence = normalize_transcript(rng.choices(makers, weights)[0]())
        sentences.setdefault(sentence, None)
    return list(sentences)


def sentence_split(sentence: str, dev_fraction: float, eval_fraction: float) -> str:
    """Returns "train", "dev" or "eval" for `sentence`, from a hash of its text alone (stable, seed-free)."""
    bucket = int.from_bytes(hashlib.sha256(sentence.encode("utf-8")).digest()[:8], "big") / 2**64
    if bucket < eval_fraction:
        return "eval"
    if bucket < eval_fraction + dev_fraction:
        return "dev"
    return "train"


def split_sentences(
    sentences: Sequence[str], dev_fraction: float = 0.05, eval_fraction: float = 0.05
) -> dict[str, list[str]]:
    """Returns the sentences grouped by `sentence_split`; the groups are disjoint by construction.

    Sentences of one or two words (a digit alone, "THANK YOU") are the core vocabulary and always go to
    train; a held-out sentence using a word that no train sentence has is dropped, since no model trained
    on this corpus could spell it.
    """
    groups: dict[str, list[str]] = {"train": [], "dev": [], "eval": []}
    for sentence in sentences:
        short = len(sentence.split()) <= 2
        groups["train" if short else sentence_split(sentence, dev_fraction, eval_fraction)].append(sentence)
    train_words = vocabulary(groups["train"])
    for name in ("dev", "eval"):
        groups[name] = [s for s in groups[name] if set(s.split()) <= train_words]
    return groups


def sample_covering(sentences: Sequence[str], count: int, rng: random.Random) -> list[str]:
    """Returns `count` sentences drawn with replacement, with every word of `sentences` in at least one.

    A plain random draw of a few thousand out of ten thousand sentences misses rare words, which the
    held-out sets may still use.
    """
    chosen: list[str] = []
    covered: set[str] = set()
    for sentence in rng.sample(list(sentences), len(sentences)):
        if not set(sentence.split()) <= covered:
            chosen.append(sentence)
            covered.update(sentence.split())
    if len(chosen) > count:
        raise ValueError(f"covering all {len(covered)} words takes {len(chosen)} sentences, more than {count}")
    return chosen + rng.choices(list(sentences), k=count - len(chosen))


def vocabulary(sentences: Sequence[str]) -> set[str]:
    """Returns the distinct words of `sentences`."""
    return {word for sentence in sentences for word in sentence.split()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the demo corpus's sentence lists (train/dev/eval).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "sentences")
    parser.add_argument("--count", type=int, default=12_000, help="distinct sentences before splitting")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    groups = split_sentences(generate_sentences(args.count, args.seed))
    for name, group in groups.items():
        (args.out / f"{name}.txt").write_text("\n".join(group) + "\n", encoding="utf-8")
        print(f"{name}: {len(group)} sentences, {len(vocabulary(group))} words -> {args.out / name}.txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
