"""Real prose already installed on the machine, so the corpus invents no text.

English comes from the license texts every Debian system carries (base-files puts them
in /usr/share/common-licenses). Spanish comes from the translations installed packages
ship as gettext catalogs (/usr/share/locale/es/LC_MESSAGES/*.mo): whole sentences of
help and error messages, with accents, ñ, ¿ and ¡.
"""

from __future__ import annotations

import gettext
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bucket_ocr_bench.errors import TextSourceError

LICENSE_DIR = Path("/usr/share/common-licenses")
ENGLISH_LICENSES = ("Apache-2.0", "GPL-3", "LGPL-3", "MPL-2.0", "GFDL-1.3", "Artistic", "BSD")
SPANISH_CATALOG_DIRS = (Path("/usr/share/locale/es/LC_MESSAGES"), Path("/usr/share/locale/es_ES/LC_MESSAGES"))

# Characters DejaVu renders and both OCR dictionaries know; anything else (format
# placeholders, control characters, quotes of many kinds) would make ground truth that
# no engine can be asked to reproduce.
_SPANISH_SENTENCE = re.compile(r"[A-Za-z0-9ÁÉÍÓÚÜÑáéíóúüñ¿¡ ,.;:()'\-]+")
_ENGLISH_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9,.;:()'\-]*")


@dataclass(frozen=True)
class SourceFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class TextSource:
    language: str  # "en" or "es"
    words: tuple[str, ...]
    files: tuple[SourceFile, ...]


def english_source(license_dir: Path = LICENSE_DIR) -> TextSource:
    words: list[str] = []
    files: list[SourceFile] = []
    for name in ENGLISH_LICENSES:
        path = license_dir / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        files.append(SourceFile(str(path), hashlib.sha256(data).hexdigest()))
        words.extend(word for word in data.decode("utf-8", "replace").split() if _ENGLISH_WORD.fullmatch(word))
    if len(words) < 2000:
        raise TextSourceError(f"too little English text under {license_dir}; install the base-files package")
    return TextSource("en", tuple(words), tuple(files))


def spanish_source(catalog_dirs: tuple[Path, ...] = SPANISH_CATALOG_DIRS) -> TextSource:
    sentences: list[str] = []
    files: list[SourceFile] = []
    for directory in catalog_dirs:
        for path in sorted(directory.glob("*.mo")) if directory.is_dir() else []:
            found = _catalog_sentences(path)
            if found:
                files.append(SourceFile(str(path), hashlib.sha256(path.read_bytes()).hexdigest()))
                sentences.extend(found)
    words = [word for sentence in sentences for word in sentence.split()]
    if len(words) < 2000:
        raise TextSourceError(
            "too little Spanish text in installed gettext catalogs (/usr/share/locale/es); "
            "install packages with translations, e.g. apt-get install coreutils gettext-base"
        )
    return TextSource("es", tuple(words), tuple(files))


def _catalog_sentences(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    except (OSError, gettext.error, UnicodeDecodeError):
        return []
    sentences = []
    # Sorted by message id: catalog order is a dict's, and the corpus must not depend on it.
    for key in sorted(catalog, key=str):
        value = catalog[key]
        if not isinstance(value, str):
            continue
        text = unicodedata.normalize("NFC", " ".join(value.split()))
        if len(text) >= 30 and len(text.split()) >= 5 and _SPANISH_SENTENCE.fullmatch(text):
            sentences.append(text)
    return sentences
