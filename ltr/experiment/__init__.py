"""Floor 6: experiment declaration (spec), data preparation, runner (cells, resume, manifest), reports."""

from ltr.experiment.runner import Runner, run_experiment
from ltr.experiment.spec import DataSpec, Experiment, TrainingSpec, TuningSpec, load_experiment

__all__ = ["DataSpec", "Experiment", "Runner", "TrainingSpec", "TuningSpec", "load_experiment", "run_experiment"]
