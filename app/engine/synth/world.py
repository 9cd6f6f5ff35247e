"""The clean synthetic world: population plus every event frame, before any extract mess.

``build_world`` is what the calibration and the truth files read; the writers turn it into the
departments' extracts. ``TUNE`` holds the calibrated rates (see docs/SYNTH.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine.synth import events, schedules
from app.engine.synth.geography import Geography, load_geography
from app.engine.synth.population import build_population, to_days

# Calibrated against table 7-36 at N = 13,913 (docs/SYNTH.md, tests/test_synth_calibration.py).
TUNE: dict = {
    "checkup_base": {"4か月": 3.2, "10か月": 1.6, "1歳6か月": 2.9, "3歳": 2.6},
    "checkup_slope": 1.1,
    "dental_base": {"1歳6か月": 0.05, "2歳6か月": -0.65, "3歳": 0.15},
    "dental_slope": 0.4,
    "caries_lambda": {"1歳6か月": 0.02, "2歳6か月": 0.08, "3歳": 0.25},
    "caries_slope": 0.8,
    "night_base": 0.0042,
    "night_slope": 1.0,
    "injury_slope": 0.5,
    "income_show": 0.0075,
    "epds_slope": 0.9,
    "epds_shift": -0.17,
    "epds_scale": 1.0,
    "guardian_rate": 0.08,
    "guardian_nhi": 1.5,
    "smoke_base": -1.5,
    "smoke_slope": 0.05,
    "custody_noise": 1.0,
    "growth_shift": 1.6,
    "growth_tracking": 0.5,
    "toddler_weight_offset": 0.3,
}

CUSTODY_SHARE = 828 / 13913


@dataclass
class World:
    as_of: dt.date
    asof: int
    geo: Geography
    households: pd.DataFrame
    persons: pd.DataFrame
    vaccines: pd.DataFrame
    checkups: pd.DataFrame
    dental: pd.DataFrame
    receipts: pd.DataFrame
    epds: pd.DataFrame
    guardian: pd.DataFrame
    custody: pd.DataFrame
    assessments: pd.DataFrame
    consultations: pd.DataFrame
    nursery: pd.DataFrame
    pregnancies: pd.DataFrame
    births: pd.DataFrame
    welfare: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


def build_world(children: int, seed: int, as_of: dt.date, tune: dict | None = None,
                progress=None) -> World:
    """Generate the clean world. Each part draws from its own child seed, so changing one
    part's draws leaves the others unchanged."""
    import time

    tune = {**TUNE, **(tune or {})}
    ss = np.random.SeedSequence(seed)
    rngs = [np.random.default_rng(s) for s in ss.spawn(16)]
    asof = to_days(as_of)
    t = {}
    t0 = time.perf_counter()
    geo = load_geography()
    pop = build_population(rngs[0], children, as_of, geo)
    hh, persons = pop.households, pop.persons
    hrow = hh.set_index("hh")
    persons["district"] = hrow["district"].reindex(persons["hh"]).to_numpy()
    persons["town"] = hrow["town"].reindex(persons["hh"]).to_numpy()
    t["population"] = time.perf_counter() - t0
    if progress is not None:
        progress.step(0.15, "世帯と人口を生成しました")
    kids = persons[persons["role"].eq("child") & ~persons["older_sibling"] & persons["in_registry"]]
    kids = kids.reset_index(drop=True)
    t0 = time.perf_counter()
    # the vaccination system's records as of its own extract date (抽出日 = as-of − its lag)
    from app.engine.synth.writers import STYLES

    vac = schedules.vaccinations(rngs[1], kids, asof - STYLES["yobo"].lag_days)
    chk = schedules.checkups(rngs[2], kids, asof, tune)
    den = schedules.dental(rngs[3], kids, asof, tune)
    t["schedules"] = time.perf_counter() - t0
    if progress is not None:
        progress.step(0.3, "健診・予防接種を生成しました")
    t0 = time.perf_counter()
    all_kids = persons[persons["role"].eq("child") & ~persons["older_sibling"]].reset_index(drop=True)
    rec = events.receipts(rngs[4], all_kids, hh, asof, tune)
    ep = events.epds(rngs[5], kids, persons, asof, tune)
    gc = events.guardian_checkups(rngs[6], persons, hh, asof, tune)
    cohort = persons[persons["cohort"]].reset_index(drop=True)
    k = int(round(children * CUSTODY_SHARE))
    cus = events.custody_list(rngs[7], cohort, asof, k, tune)
    ass = events.assessments(rngs[8], cohort, cus, asof)
    con = events.consultations(rngs[9], cohort, asof)
    nur = events.nursery(rngs[10], kids, asof)
    preg, births = events.pregnancies_and_births(rngs[11], kids, persons, hh, asof)
    wel = events.welfare(rngs[12], persons, hh, asof)
    t["events"] = time.perf_counter() - t0
    if progress is not None:
        progress.step(0.45, "受診・相談などを生成しました")
    return World(as_of=as_of, asof=asof, geo=geo, households=hh, persons=persons, vaccines=vac,
                 checkups=chk, dental=den, receipts=rec, epds=ep, guardian=gc, custody=cus,
                 assessments=ass, consultations=con, nursery=nur, pregnancies=preg, births=births,
                 welfare=wel, timings=t)
