"""Batch evaluation of models on the company's own code: versioned sets of held-out completion
tasks and explanation prompts (`build`), runs of model configurations over a set (`runner`), scores
(`scoring`), an adopt / do-not-adopt checklist (`checklist`) and reports (`report`). `kura eval`
is the command line over it."""

from __future__ import annotations


class EvalError(Exception):
    """Bad input to an evaluation (no tasks, unknown set version, a broken policy or prompt file);
    the message is meant for the user as is."""
