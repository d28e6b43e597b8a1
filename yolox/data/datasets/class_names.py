"""Agree on a run's class names with a dataset: take them from it, or check it against them."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

from .errors import DatasetError

__all__ = ["generated_class_names", "bind_class_names"]


def generated_class_names(num_classes: int) -> Tuple[str, ...]:
    """``class_0 .. class_{n-1}``: the names of a dataset that stores class indices only."""
    return tuple(f"class_{k}" for k in range(num_classes))


def _describe(dataset: Any) -> str:
    where = getattr(dataset, "root", None) or getattr(dataset, "json_path", None)
    return f"{type(dataset).__name__}({where})" if where else type(dataset).__name__


def _highest_label(dataset: Any) -> int:
    return max((int(r.labels.max()) for r in dataset.records if len(r.labels)), default=-1)


def bind_class_names(
    class_names: Optional[Sequence[str]], num_classes: int, dataset: Any
) -> Tuple[Tuple[str, ...], Optional[str]]:
    """(the run's class names, a log line when they were decided here) for ``dataset``.

    ``class_names=None`` means "from the dataset": COCO categories, VOC XML names (sorted), a
    YOLO names file, or ``class_0..`` when the data only hold indices. Names given by the run
    are checked against the dataset (its names re-numbered to the run's order where the data
    do not fix an order). A disagreement in the number of classes is a DatasetError naming
    the exp field to change.
    """
    if not hasattr(dataset, "class_names_source"):  # a dataset of the user's own making
        if class_names is not None:
            return tuple(class_names), None
        names = generated_class_names(num_classes)
        return names, f"class names: the dataset has none, using {names[0]}..{names[-1]}"
    source = dataset.class_names_source
    data_names = tuple(dataset.class_names)
    where = _describe(dataset)
    if source is None:  # indices only (YOLO txt without a names file)
        top = _highest_label(dataset)
        if top >= num_classes:
            raise DatasetError(
                f"{where} uses class index {top} but num_classes={num_classes}: "
                f"set num_classes to at least {top + 1} in the exp"
            )
        names = tuple(class_names) if class_names is not None else None
        note = None
        if names is None:
            names = generated_class_names(num_classes)
            note = f"class names: {where} has no names file, using {names[0]}..{names[-1]}"
        dataset.class_names, dataset.num_classes = names, len(names)  # labels are indices
        return names, note
    if class_names is None:
        if len(data_names) != num_classes:
            raise DatasetError(
                f"num_classes={num_classes} but {where} has {len(data_names)} classes "
                f"(from {source}): {list(data_names)}; set num_classes={len(data_names)} in the exp, "
                f"or give class_names with the {num_classes} names the model should have"
            )
        return data_names, f"class names from {source}: {list(data_names)}"
    names = tuple(class_names)
    if source == "caller" or data_names == names:
        return names, None
    if source.startswith("the XML"):  # names found in the data: adopt the run's numbering
        extra = [n for n in data_names if n not in names]
        if extra:
            raise DatasetError(
                f"{where} has objects of classes {extra} that are not in the exp's "
                f"class_names {list(names)}: add them (and raise num_classes), or set "
                "skip_unknown_classes=True (checker: --skip-unknown-classes)"
            )
        dataset.remap_classes(names)
        return names, None
    if len(data_names) != len(names):
        raise DatasetError(
            f"the exp has {len(names)} classes (num_classes/class_names) but {where} has "
            f"{len(data_names)} (from {source}): {list(data_names)}; set num_classes="
            f"{len(data_names)} and class_names=None to take the dataset's names"
        )
    raise DatasetError(
        f"the exp's class_names {list(names)} differ from those of {where} ({source}): "
        f"{list(data_names)}; set class_names=None to take the dataset's names, or fix them"
    )
