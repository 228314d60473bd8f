"""Form data for one virtual patient's questionnaire (used by the load benchmark).

Used by the load generator (bench/virtual_patients.py) and by the scripts that fill
in the questionnaire (bench/cpu_ratio.py, bench/page_weight.py, bench/request_cpu.py),
each through bench/walker.py, which takes from these answers what each page asks.
"""

import datetime
import random

from bench.seed import FIRST_NAMES, LAST_NAMES, random_answers
from tests.intake.questionnaire import STEP_DATA, STEP_ORDER

#: Questions asked only for some earlier answers (intake.forms.CONDITIONAL_QUESTIONS)
#: and their step: the tests' STEP_DATA leaves out those its calm patient is not asked.
CONDITIONAL_CODES = {"falls": "legs", "weakness_onset": "legs", "weakness_trend": "legs"}


def patient_address(tag: str, number: int) -> str:
    """A private address for patient ``number`` of run ``tag``, as the TLS proxy would pass on."""
    return f"10.{int(tag) % 256}.{number // 256 % 256}.{number % 256}"


def questionnaire(rng: random.Random, phone: str) -> dict[str, dict[str, str]]:
    """Form data for every step: a random, plausible patient with a unique phone."""
    symptoms = random_answers(rng)
    started = datetime.date.today() - datetime.timedelta(days=rng.randrange(0, 120))
    symptoms.setdefault("weakness_onset", "")
    symptoms.setdefault("weakness_trend", "")
    symptoms["symptoms_started"] = started.isoformat()
    symptoms["pain_score"] = str(rng.randrange(0, 11))
    data = {}
    for slug in STEP_ORDER:
        fields = dict(STEP_DATA[slug])
        for code in fields:
            if code in symptoms:
                fields[code] = str(symptoms[code])
        data[slug] = fields
    for code, slug in CONDITIONAL_CODES.items():
        if code in symptoms:
            data[slug][code] = str(symptoms[code])
    born = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(70 * 365))
    data["about"].update(
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        date_of_birth=born.isoformat(),
        phone=phone,
    )
    return data
