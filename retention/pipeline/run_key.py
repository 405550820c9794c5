"""The run key: one frozen value that names every input of a computed number.

Every pipeline stage (``retention.pipeline.stages``) takes data and one :class:`RunKey`; every
front end (the pages through ``ui/`` caches, the ``parklife`` CLI, exports, batch jobs) builds the
key the same way (:func:`run_key`) and so gets the same numbers. Equal keys mean equal inputs:
the park's data version (a hash of its files and uploads), its saved parameters, its current
survey's version, and the reserved scenario id and user scope (``None`` until the scenario lab
and roles use them).

A stage depends on part of the key only (travel times do not change with the replacement cost):
:meth:`RunKey.for_stage` returns the key with everything the stage does not read set to a
neutral value, so caches keyed on it are shared across the rest. :meth:`RunKey.digest` is a
stable hex name of a key across processes and restarts (the disk cache of
``retention.pipeline.warm`` uses it).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from retention.errors import ParkLifeError
from retention.park_parameters import ParkParameters, load_park_parameters
from retention.storage.park import park_data_version
from retention.storage.store import shared_store
from retention.storage.waves import current_survey_version

RUN_KEY_FORMAT = 2
"""Version of :meth:`RunKey.digest`'s encoding; bump it when the encoding changes, or when a
stage's results change for the same key, so that no kept result from before is served
(2: the model is fitted on the released sample only, disclosure rule 5)."""


class Stage(enum.Enum):
    """The product stages of the pipeline, in the order data flows through them."""

    PARK = "park"
    TRAVEL_TIMES = "travel_times"
    INDICATORS = "indicators"
    SURVEY = "survey"
    SURVEY_FILE = "survey_file"
    """A survey file being imported on the Survey page (read, mapped, linked): keyed as SURVEY."""
    MODEL = "model"
    ENTERPRISE = "enterprise"


class RunKeyMismatchError(ParkLifeError, ValueError):
    """Data handed to a stage is not the data its run key names (another park or version)."""


@dataclass(frozen=True)
class RunKey:
    """Everything a pipeline result depends on, frozen and hashable (a clean cache key).

    Parameters
    ----------
    park_id
        The park, e.g. ``"jinshan"``.
    data_version
        ``retention.storage.park.park_data_version``: a hash of the park's demo files and
        uploads.
    parameters
        The park's planning parameters (``retention.park_parameters``), normally its saved ones.
    survey_version
        ``retention.storage.waves.current_survey_version`` (``"none"`` without a survey; ``""``
        in a key narrowed to a stage that does not read the survey).
    scenario_id
        Reserved for the scenario lab: the scenario whose modifications apply (``None``: the
        baseline).
    user_scope
        Reserved for roles: a canonical text naming what the user may see (``None``: no
        restriction). It is kept only by stages that read per-person data (survey, enterprise
        view); shared computations (travel times, indicators, the model fit) do not depend on it.
    """

    park_id: str
    data_version: str
    parameters: ParkParameters
    survey_version: str
    scenario_id: str | None = None
    user_scope: str | None = None

    def digest(self) -> str:
        """Return a stable hex name of this key (equal keys, equal names, in any process)."""
        document = {
            "format": RUN_KEY_FORMAT,
            "park_id": self.park_id,
            "data_version": self.data_version,
            "parameters": parameters_digest(self.parameters),
            "survey_version": self.survey_version,
            "scenario_id": self.scenario_id,
            "user_scope": self.user_scope,
        }
        text = json.dumps(document, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()

    def for_stage(self, stage: Stage | str) -> RunKey:
        """Return this key with what ``stage`` does not read set to neutral values.

        - park: park id, data version, scenario;
        - travel times: + travel parameters and time windows;
        - indicators: + living circles, gap targets, supply norms, decay;
        - survey: park, data version (the demo survey links to its layers), survey version, k,
          scenario, user scope;
        - model: travel parameters, time windows, k and survey version (access features, fit);
        - enterprise: the whole key.
        """
        stage = Stage(stage)
        defaults = ParkParameters()
        p = self.parameters
        kept: ParkParameters
        if stage is Stage.ENTERPRISE:
            return self
        if stage is Stage.PARK:
            kept = defaults
        elif stage is Stage.TRAVEL_TIMES:
            kept = replace(defaults, travel=p.travel, time_windows=p.time_windows)
        elif stage is Stage.MODEL:
            # k too: the model stage reads the survey stage, whose key keeps k (gap weights).
            kept = replace(
                defaults, travel=p.travel, time_windows=p.time_windows, privacy=p.privacy
            )
        elif stage is Stage.INDICATORS:
            kept = replace(
                p,
                conversion=defaults.conversion,
                replacement_cost=defaults.replacement_cost,
                privacy=defaults.privacy,
            )
        else:  # Stage.SURVEY
            kept = replace(defaults, privacy=p.privacy)
        return replace(
            self,
            parameters=kept,
            survey_version=self.survey_version if stage in (Stage.SURVEY, Stage.MODEL) else "",
            user_scope=self.user_scope if stage is Stage.SURVEY else None,
        )

    def check(self, park_id: str, data_version: str) -> None:
        """Raise :class:`RunKeyMismatchError` unless the data is the park and version named here.

        Parameters
        ----------
        park_id, data_version
            Of the data handed to a stage (``ParkData.park_id``, ``ParkData.data_version``).
        """
        if park_id != self.park_id or data_version != self.data_version:
            raise RunKeyMismatchError(
                f"run key names park {self.park_id!r} at data version {self.data_version[:12]}, "
                f"got park {park_id!r} at {data_version[:12]}; expected the data the key was "
                "made for (rebuild the key after the park's data changes)"
            )


def parameters_digest(parameters: ParkParameters) -> str:
    """Return the SHA-256 (hex) of the parameters' ``repr``: every field, sources included.

    The repr of these frozen dataclasses holds only numbers, text, tuples and enums, so it is
    the same in every process (checked: an object address would make it differ per process).
    """
    text = repr(parameters)
    if " at 0x" in text:
        raise ValueError("parameters hold an object without a stable repr; cannot name them")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_key(
    park_id: str,
    *,
    data_dir: Path,
    parameters: ParkParameters | None = None,
    data_version: str | None = None,
    scenario_id: str | None = None,
    user_scope: str | None = None,
    geodata_dir: Path | None = None,
) -> RunKey:
    """Return the run key of a park as it is now on disk.

    Cheap enough for every page run: it hashes the park's demo files and upload manifest, reads
    its parameters file and its survey manifest (or hashes the demo survey workbook).

    Parameters
    ----------
    park_id
        The park.
    data_dir
        The ParkLife data directory (``PARKLIFE_DATA_DIR``).
    parameters
        Parameters to compute with; default the park's saved ones (``ParameterError`` when that
        file is invalid).
    data_version
        The data version when already known (a loaded ``ParkData.data_version``); default
        computed from the files.
    scenario_id, user_scope
        Reserved (see :class:`RunKey`).
    geodata_dir
        Where demo parks live (default ``<repo>/geodata``).
    """
    if data_version is None:
        data_version = park_data_version(
            park_id, uploads=shared_store(data_dir).uploads, geodata_dir=geodata_dir
        )
    if parameters is None:
        parameters = load_park_parameters(park_id, store=shared_store(data_dir))
    survey = current_survey_version(
        park_id, store=shared_store(data_dir).waves, geodata_dir=geodata_dir
    )
    return RunKey(
        park_id=park_id,
        data_version=data_version,
        parameters=parameters,
        survey_version=survey,
        scenario_id=scenario_id,
        user_scope=user_scope,
    )


def park_key(park_id: str, *, data_dir: Path, geodata_dir: Path | None = None) -> RunKey:
    """Return the run key of the park stage only (``run_key(...).for_stage(Stage.PARK)``).

    Reads neither the parameters file nor the survey: loading a park needs its data version only.
    """
    version = park_data_version(
        park_id, uploads=shared_store(data_dir).uploads, geodata_dir=geodata_dir
    )
    return RunKey(park_id, version, ParkParameters(), survey_version="").for_stage(Stage.PARK)
