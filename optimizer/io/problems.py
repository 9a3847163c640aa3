"""What is wrong with an input: one :class:`Problem` per finding, all raised together (DESIGN §4.3).

Every stage of reading an input (:mod:`optimizer.io.reading`, :mod:`optimizer.io.cells`,
:mod:`optimizer.io.validation`, :mod:`optimizer.io.resolution`) appends to one list of problems;
:func:`optimizer.data_io.parse` raises them at once as :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as possible."""

    sheet: str
    cell: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        tail = f" — {self.expected}" if self.expected else ""
        return f"{where}: {self.message}{tail}"


class InputError(Exception):
    """The input has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
