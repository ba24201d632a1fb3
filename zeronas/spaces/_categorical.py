"""Search moves shared by spaces whose architectures are a fixed list of categorical decisions.

A subclass supplies ``choices``, ``parse``, ``format`` and the index order; this class derives
sampling, one-edit neighbourhoods, mutation and crossover from the codes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zeronas.spaces._base import SearchSpace


class CategoricalSpace(SearchSpace):
    """A space whose code is one option index per decision, every combination valid."""

    @property
    def cardinalities(self) -> tuple[int, ...]:
        return tuple(len(options) for _, options in self.choices)

    def check_code(self, code: Sequence[int]) -> tuple[int, ...]:
        """Return ``code`` as a tuple of ints, or raise ValueError saying which entry is out of range."""
        sizes = self.cardinalities
        code = tuple(int(c) for c in code)
        if len(code) != len(sizes):
            raise ValueError(f"{self.name} code needs {len(sizes)} entries, got {len(code)}")
        for (name, options), value in zip(self.choices, code):
            if not 0 <= value < len(options):
                raise ValueError(f"{self.name} code entry {name}={value} is outside 0..{len(options) - 1}")
        return code

    # -- search moves ------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> str:
        return self.format([int(rng.integers(n)) for n in self.cardinalities])

    def neighbour_codes(self, code: Sequence[int]) -> list[tuple[int, ...]]:
        code = self.check_code(code)
        result = []
        for position, size in enumerate(self.cardinalities):
            for option in range(size):
                if option != code[position]:
                    result.append(code[:position] + (option,) + code[position + 1 :])
        return result

    def neighbours(self, arch: str) -> list[str]:
        return [self.format(c) for c in self.neighbour_codes(self.parse(arch))]

    def mutate(self, arch: str, rng: np.random.Generator) -> str:
        # One draw over all neighbours (in ``neighbour_codes`` order) keeps the draw uniform even
        # when decisions have different numbers of options, without listing them.
        code = self.parse(arch)
        pick = int(rng.integers(sum(size - 1 for size in self.cardinalities)))
        for position, size in enumerate(self.cardinalities):
            if pick < size - 1:
                option = pick if pick < code[position] else pick + 1
                return self.format(code[:position] + (option,) + code[position + 1 :])
            pick -= size - 1
        raise AssertionError("unreachable: the pick is below the neighbour count")

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        code_a, code_b = self.parse(a), self.parse(b)
        take_a = rng.random(len(code_a)) < 0.5
        return self.format([x if keep else y for x, y, keep in zip(code_a, code_b, take_a)])
