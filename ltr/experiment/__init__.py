"""Floor 7: experiment declaration (spec, data kinds, systems), data preparation, runner (cells, resume, lock,
manifest), reports of a run."""

from ltr.experiment.data_specs import CollectionData, DataSpec, LetorFiles, LetorFolds
from ltr.experiment.loader import load_experiment
from ltr.experiment.runner import Runner, run_experiment
from ltr.experiment.spec import Experiment, TrainingSpec, TuningSpec
from ltr.experiment.systems import FixedSystem, System

__all__ = ["CollectionData", "DataSpec", "Experiment", "FixedSystem", "LetorFiles", "LetorFolds", "Runner", "System",
           "TrainingSpec", "TuningSpec", "load_experiment", "run_experiment"]
