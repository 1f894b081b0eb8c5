"""Declarative field maps and reference-data crosswalks (the Message Translator)."""

from pssync.mapping.spec import MappingFileError, MappingSpec, load_spec
from pssync.mapping.translator import Problem, TranslationError, Translator

__all__ = [
    "MappingFileError",
    "MappingSpec",
    "Problem",
    "TranslationError",
    "Translator",
    "load_spec",
]
