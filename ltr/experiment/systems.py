"""The systems an experiment compares: a trained :class:`System` is a backend and a parsed objective; a
:class:`FixedSystem` is a ranking that is not trained (the first stage alone).

A system's name (``backend/objective``, the objective in its printed form) is made in one place,
:attr:`System.name`, and read back in one place, :func:`parse_system`; nothing else splits it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ltr.errors import ConfigError, LTRError
from ltr.naming import select

#: Ranker settings that exist on one backend only (the Ranker refuses the others on XGBoost): a backend
#: takes the entries of a configuration it has, so LightGBM models differ in leaves and leaf size, XGBoost
#: models in depth.
BACKEND_SETTINGS = {"num_leaves": ("lightgbm",), "min_child_samples": ("lightgbm",), "max_depth": ("xgboost",)}


def slug(name: str) -> str:
    """A file-name-safe form of a system name: ``lightgbm/lambdarank(truncation_level=20)`` ->
    ``lightgbm-lambdarank_truncation_level=20``."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9.=+-]", "_", name.replace("/", "-"))).strip("_")


def available_backends() -> list[str]:
    """The backend registry's names (:mod:`ltr.models.backends`)."""
    from ltr.models.backends import available_backends as names
    return list(names())


@dataclass(frozen=True)
class System:
    """A backend and an objective, trained under the experiment's protocol.

    Parameters
    ----------
    backend : str
        A name of the backend registry (``"lightgbm"``, ``"xgboost"``).
    objective : Objective
        A parsed objective (:func:`ltr.objectives.get_objective`).
    """

    backend: str
    objective: object
    trained = True

    def __post_init__(self):
        select(dict.fromkeys(available_backends()), self.backend, what="backend")

    @property
    def name(self) -> str:
        """``backend/objective``, the objective in its printed form: the system's one printed name."""
        return f"{self.backend}/{self.objective!r}"

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def objective_name(self) -> str:
        """The objective's printed form (the ``objective`` column of metrics.csv)."""
        return repr(self.objective)

    @property
    def supported(self) -> bool:
        """Whether the backend offers the objective."""
        return self.backend in self.objective.backends

    def takes(self, setting: str) -> bool:
        """Whether this system's backend has the Ranker setting ``setting``."""
        return self.backend in BACKEND_SETTINGS.get(setting, (self.backend,))

    def own_settings(self, config: dict) -> dict:
        """The entries of a search configuration this backend takes (the others do not exist on it)."""
        return {k: v for k, v in config.items() if self.takes(k)}

    def __str__(self) -> str:
        return self.name


CONTROL_SUFFIX = " (control)"


@dataclass(frozen=True)
class ControlSystem(System):
    """The A/A control: the baseline's backend and objective under the same protocol, trained with other seeds
    (disjoint from the experiment's). Any difference it shows from the baseline is the noise floor."""

    @property
    def name(self) -> str:
        return f"{self.backend}/{self.objective!r}{CONTROL_SUFFIX}"

    @property
    def objective_name(self) -> str:
        return f"{self.objective!r}{CONTROL_SUFFIX}"

    @property
    def baseline_name(self) -> str:
        return f"{self.backend}/{self.objective!r}"


@dataclass(frozen=True)
class FixedSystem:
    """A ranking that is not trained, e.g. the first stage's own (``first-stage/bm25``): deterministic, so
    it runs once per fold, not once per seed."""

    name: str
    trained = False

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def backend(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def objective_name(self) -> str:
        return self.name.split("/", 1)[1]

    def __str__(self) -> str:
        return self.name


#: The first stage's own ranking in experiments on raw collections.
FIRST_STAGE = FixedSystem("first-stage/bm25")
FIRST_STAGE_SYSTEM = FIRST_STAGE.name


def parse_system(text: str, *, fixed: tuple[FixedSystem, ...] = ()) -> System | FixedSystem:
    """A system from its name, ``backend/objective``; the objective is parsed, so
    ``lightgbm/lambdarank(truncation_level=20)`` and its canonical form are the same system."""
    from ltr.objectives import get_objective
    for f in fixed:
        if text == f.name:
            return f
    if not isinstance(text, str) or "/" not in text:
        raise ConfigError(f"a system is named 'backend/objective', e.g. 'lightgbm/lambdarank'; got {text!r}")
    kind = System
    if text.endswith(CONTROL_SUFFIX):
        kind, text = ControlSystem, text[: -len(CONTROL_SUFFIX)]
    backend, objective = text.split("/", 1)
    try:
        return kind(backend, get_objective(objective))
    except LTRError as exc:
        raise type(exc)(f"system {text!r}: {exc}") from None
