"""Helpers the per-language extraction tests share: extract a sample, look at its definitions."""

from indexer import kinds
from indexer.extract import extract_file
from indexer.languages import language_for_path


def extract_source(source: str, path: str):
    return extract_file(path, source.encode("utf-8"), language_for_path(path))


def kinds_by_qualname(result):
    return {d.qualname: kinds.NAMES[d.kind] for d in result.definitions}


def definition(result, qualname):
    return next(d for d in result.definitions if d.qualname == qualname)
