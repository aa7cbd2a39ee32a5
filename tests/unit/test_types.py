"""A socket type is registered once, by making it (nodes/types.py); everything reads that table."""

from __future__ import annotations

import pytest

from nodes import types as T
from nodes import values


def test_making_a_type_registers_it_and_a_second_of_the_same_name_is_refused(monkeypatch):
    monkeypatch.setattr(T, "ALL_TYPES", dict(T.ALL_TYPES))  # leave the product's table as it was
    depth = T.DataType("Depth", "#336699", "Distance from the camera per pixel")
    assert T.ALL_TYPES["Depth"] is depth
    assert list(T.ALL_TYPES)[-1] == "Depth"  # in the order made
    with pytest.raises(ValueError, match="'Depth' exists already"):
        T.DataType("Depth", "#000000", "another")


def test_every_media_value_names_its_socket_type():
    for cls in (values.Video, values.Image, values.Mask, values.Audio):
        assert cls.data_type in T.MEDIA_TYPES and T.ALL_TYPES[cls.data_type.name] is cls.data_type
    assert [t.name for t in T.MEDIA_TYPES] == ["Video", "Image", "Mask", "Audio"]
