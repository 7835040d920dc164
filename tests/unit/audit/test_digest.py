from steward import audit


def test_digest_is_canonical():
    assert audit.digest({"b": 1, "a": [1, 2]}) == audit.digest({"a": [1, 2], "b": 1})
    assert audit.digest({"a": 1}) != audit.digest({"a": 2})
    assert len(audit.digest("x")) == 64


def test_canonical_json_is_compact_and_sorted():
    assert audit.canonical_json({"b": 1, "a": "x"}) == '{"a":"x","b":1}'
