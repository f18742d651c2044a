"""Cut the recognition model's output classes down to one script's characters.

The CTC head is a MatMul by a [features, classes] weight plus a bias, then a softmax.
Class 0 is CTC blank and the last class is the space that PaddleX's CTCLabelDecode adds
after the dictionary; both stay, in place, so the decoder's indexing is unchanged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import BundleBuildError

# Code points of Latin-script text in print: ASCII, Latin-1 and Latin Extended-A/B
# (accents, ñ, ß, ø, œ...), then general punctuation, super/subscripts, currency signs
# (€) and letterlike symbols (™, №). Greek and Cyrillic stay out: their look-alikes of
# Latin letters would only add confusions.
_LATIN_RANGES = ((0x0020, 0x0250), (0x2000, 0x2150))

CHARSETS: dict[str, Callable[[str], bool]] = {
    "latin": lambda ch: (
        len(ch) == 1
        and any(low <= ord(ch) < high for low, high in _LATIN_RANGES)
        and unicodedata.category(ch)[0] != "C"
    ),
}


def kept_classes(characters: Sequence[str], charset: str) -> tuple[list[int], list[str]]:
    """Output indices to keep (blank, the charset's characters, space) and the new dictionary."""
    try:
        wanted = CHARSETS[charset]
    except KeyError:
        raise BundleBuildError(f"unknown charset {charset!r}; known: {', '.join(sorted(CHARSETS))}") from None
    kept = [(index + 1, ch) for index, ch in enumerate(characters) if wanted(ch)]
    if not kept:
        raise BundleBuildError(f"the recognition dictionary has no {charset} characters")
    space = len(characters) + 1
    return [0, *(index for index, _ in kept), space], [ch for _, ch in kept]


def slice_head(model: onnx.ModelProto, classes: Sequence[int], expected_classes: int) -> None:
    """Keep `classes` of the final MatMul+Add in place; checks the graph is the one expected."""
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    softmax = producer.get(graph.output[0].name)
    add = producer.get(softmax.input[0]) if softmax is not None and softmax.op_type == "Softmax" else None
    add = _skip_identity(add, producer)
    matmul = _skip_identity(producer.get(add.input[0]), producer) if add is not None and add.op_type == "Add" else None
    if add is None or matmul is None or matmul.op_type != "MatMul":
        raise BundleBuildError("recognition model does not end in MatMul, Add, Softmax; cannot cut its head")
    weight = initializers.get(matmul.input[1])
    bias = initializers.get(add.input[1])
    if weight is None or bias is None:
        raise BundleBuildError("recognition head weights are not constants; cannot cut its head")
    for init in (weight, bias):
        array = numpy_helper.to_array(init)
        if array.shape[-1] != expected_classes:
            raise BundleBuildError(
                f"recognition head {init.name} has {array.shape[-1]} classes, the dictionary implies {expected_classes}"
            )
        init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array[..., list(classes)]), init.name))
    for output in graph.output:
        dims = output.type.tensor_type.shape.dim
        if dims and dims[-1].HasField("dim_value"):
            dims[-1].dim_value = len(classes)
    # Shapes the exporter recorded between the head and the output would still say
    # 18,710; the rest stay, since type inference cannot see through every node.
    stale = {name for node in producer.values() if node in _head_path(softmax, producer) for name in node.output}
    kept_info = [info for info in graph.value_info if info.name not in stale]
    del graph.value_info[:]
    graph.value_info.extend(kept_info)


def _head_path(softmax: onnx.NodeProto | None, producer: Mapping[str, onnx.NodeProto]) -> list[onnx.NodeProto]:
    """Softmax back to the MatMul: every node whose output has one entry per class."""
    path: list[onnx.NodeProto] = []
    node = softmax
    while node is not None:
        path.append(node)
        if node.op_type == "MatMul":
            break
        node = producer.get(node.input[0])
    return path


def _skip_identity(node: onnx.NodeProto | None, producer: Mapping[str, onnx.NodeProto]) -> onnx.NodeProto | None:
    while node is not None and node.op_type == "Identity":
        node = producer.get(node.input[0])
    return node
