"""One definition of subject matching, one table of handlers, one declaration of copies."""

from __future__ import annotations

import dataclasses

import pytest

from steward import datamap
from steward.dsar import derived, finder, handlers, jurisdictions, keys


def test_every_request_type_has_one_handler():
    assert set(handlers.HANDLERS) == set(jurisdictions.REQUEST_TYPES)
    with pytest.raises(ValueError, match="unknown request type"):
        handlers.handler_for("erase-everything")


def test_the_data_map_declares_every_identifier_column_the_matcher_uses():
    data_map = datamap.load_data_map()
    assert finder.undeclared_identifier_columns(data_map) == []
    for table in finder.subject_tables(data_map):
        for category, kind in ((finder.EMAIL, "email"), (finder.PHONE, "phone")):
            assert finder.columns_of(table, category) == list(table.identifier_columns(kind))
    names = {t.qualified_name for t in data_map.tables if finder.resolves_by_phone(t)}
    assert "marketing.opt_outs" in names and "telephony.calls" not in names


def test_an_undeclared_phone_column_stops_every_search():
    data_map = datamap.load_data_map()
    opt_outs = data_map.table("marketing.opt_outs")
    broken = dataclasses.replace(opt_outs, identifiers={**opt_outs.identifiers, "phone": ()})
    tables = [broken if t is opt_outs else t for t in data_map.tables]
    with pytest.raises(finder.MatchDefinitionError, match=r"marketing.opt_outs.phone"):
        finder.subject_tables(dataclasses.replace(data_map, tables=tables))


def test_derived_copies_come_from_the_dbt_yaml():
    copies = {copy.qualified_name: copy for copy in derived.copies()}
    assert {
        "steward.dsar_subject_index",
        "steward.customer_phone_numbers",
        "steward.dim_phone_numbers",
        "steward.customer_duplicate_clusters",
        "steward.customer_match_pairs",
        "steward.phone_lookup",
        # Tables among the intermediate views, in the schema dbt_project.yml gives them.
        "intermediate.int_phones__contact_checks",
        "intermediate.int_phones__crm_contact_checks",
        "intermediate.int_dedupe__customer_records",
    } <= set(copies)
    assert copies["steward.dsar_subject_index"].source_table_column == "source_table"
    assert copies["intermediate.int_phones__contact_checks"].rows_of_table == "telephony.calls"


def test_every_table_model_holding_identifiers_is_a_derived_copy():
    """A model materialised as a table keeps what it copied after an erasure unless it is
    declared: every table or incremental model whose SQL selects a customer id, e-mail or
    E.164 column must be in derived.copies()."""
    import re

    from steward import paths

    declared = {copy.model for copy in derived.copies()}
    project = paths.dbt_project_dir()
    defaults = derived.folder_config(project, "+materialized")
    undeclared = []
    for model_sql in sorted((project / "models").rglob("*.sql")):
        folder = model_sql.relative_to(project / "models").parts[0]
        text = model_sql.read_text()
        configured = re.search(r"materialized\s*=\s*'(\w+)'", text)
        materialized = configured.group(1) if configured else defaults.get(folder, "view")
        if materialized not in ("table", "incremental"):
            continue
        final = text.rsplit("final as (", 1)[-1]
        holds_identifiers = re.search(r"\b(customer_ids?|e164|email|phone_e164)\b", final)
        if holds_identifiers and model_sql.stem not in declared:
            undeclared.append(model_sql.stem)
    assert undeclared == []


def test_a_malformed_derived_copy_declaration_is_named(tmp_path):
    models = tmp_path / "models" / "marts"
    models.mkdir(parents=True)
    (models / "_x__models.yml").write_text(
        "models:\n  - name: x\n    config:\n      meta:\n        steward:\n"
        "          derived_copy: {customer_idz: [a]}\n"
    )
    with pytest.raises(derived.DerivedCopyError, match=r"model x.*customer_idz"):
        derived.copies(tmp_path)


def test_keys_are_required_and_never_generated(monkeypatch):
    monkeypatch.delenv(keys.SUBJECT_KEY_ENV, raising=False)
    monkeypatch.delenv(keys.SUPPRESSION_KEY_ENV, raising=False)
    with pytest.raises(keys.MissingKeyError, match=keys.SUBJECT_KEY_ENV):
        keys.subject_key()
    with pytest.raises(keys.MissingKeyError, match=keys.SUPPRESSION_KEY_ENV):
        keys.suppression_key()
    monkeypatch.setenv(keys.SUBJECT_KEY_ENV, "short")
    with pytest.raises(keys.MissingKeyError):
        keys.subject_key()


def test_subject_digest_is_keyed():
    one = keys.subject_digest(None, "Zed@Example.org", None, b"k" * 32)
    assert one == keys.subject_digest(None, "zed@example.org", None, b"k" * 32)
    assert one != keys.subject_digest(None, "zed@example.org", None, b"j" * 32)
