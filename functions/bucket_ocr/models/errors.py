"""Errors raised while building or checking model bundles."""


class ModelsError(Exception):
    """Base class for every failure of the `bucket-ocr-models` command."""


class UnknownBundleError(ModelsError):
    """A bundle name that this version of bucket-ocr does not know how to build."""


class ModelSourceNotFoundError(ModelsError):
    """The wheel that carries a bundle's weights (or a file inside it) is not installed."""


class BundleBuildError(ModelsError):
    """Building a bundle failed after its sources were found (I/O, bad metadata...)."""


class BundleVerificationError(ModelsError):
    """A built bundle on disk does not match its manifest, or has no readable manifest."""


class GeluFusionCountError(BundleBuildError):
    """The recognition model has another number of erf-GELUs than its optimisation expects:
    the wheel's export changed, and the measured speed and accuracy no longer hold."""
