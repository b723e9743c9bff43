"""protocol/layers-cases.json through the worker's schema; test/models/layers-cases.test.ts runs the same
cases through the TypeScript one, so the two halves accept and refuse alike, naming the same fields."""

import json

import pytest

from tfbridge_worker.errors import ModelError
from tfbridge_worker.models.schema import check_model_config
from tfbridge_worker.protocol import PROTOCOL_DIR

CASES = json.loads((PROTOCOL_DIR / "layers-cases.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    if case["accepted"]:
        check_model_config(case["config"])
        return
    with pytest.raises(ModelError) as refused:
        check_model_config(case["config"])
    named = [{k: p[k] for k in ("layer", "class", "field") if k in p} for p in refused.value.details["problems"]]
    assert named == case["problems"]
