"""Export pages become Arrow columns of the dataset's types, whatever Neo4j stored."""

from __future__ import annotations

import pyarrow as pa

from gnn.export import _column


def test_columns_keep_their_type_when_the_stored_values_do_not() -> None:
    # Fast path: values already of the column's type, nulls kept.
    assert _column([1, None, 3], pa.int64()).to_pylist() == [1, None, 3]
    assert _column([1, 2.5], pa.float64()).to_pylist() == [1.0, 2.5]
    # Value by value: ids stored as numbers, flags stored as strings, amounts as strings.
    assert _column(["E1", 42, None], pa.string()).to_pylist() == ["E1", "42", None]
    assert _column(["true", "0", True, None], pa.bool_()).to_pylist() == [True, False, True, None]
    assert _column(["7", 8], pa.int64()).to_pylist() == [7, 8]
    for typ in (pa.int64(), pa.float64(), pa.bool_(), pa.string()):
        assert _column([], typ).type == typ
