"""The one error this package raises: a language-model folder that cannot be built or used."""


class LanguageModelError(ValueError):
    """A language-model folder is missing, malformed, or does not fit the acoustic model's vocabulary."""
