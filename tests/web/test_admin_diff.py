"""The version diff reads like a change log: one line per changed path."""

from __future__ import annotations

from app.schemas.presets import preset_document
from app.web.docdiff import diff_documents


def test_changed_added_and_removed_paths() -> None:
    old = preset_document("connectsoft")
    new = preset_document("connectsoft")
    new["tiers"]["premium"]["sev1"]["first_response"] = "30m on 24x7"
    new["tiers"]["premium"]["sev1"]["eta_required"] = True
    del new["tiers"]["standard"]["sev2"]["resolution"]
    texts = [c.text for c in diff_documents(old, new)]
    assert "tiers.premium.sev1.first_response: 1h on 24x7 → 30m on 24x7" in texts
    assert "tiers.premium.sev1.eta_required: added true" in texts
    assert any(t.startswith("tiers.standard.sev2.resolution: removed") for t in texts)
    assert len(texts) == 3


def test_severities_are_compared_by_id_not_position() -> None:
    old = preset_document("communardo")
    new = preset_document("communardo")
    new["severities"][1]["name"] = "Level 2 (critical)"
    new["severities"].append({"id": "sev5", "name": "Level 5", "definition": "", "aliases": []})
    texts = [c.text for c in diff_documents(old, new)]
    assert texts[0] == "severities[sev2].name: Level 2 → Level 2 (critical)"
    assert texts[1].startswith("severities[sev5]: added")
    assert diff_documents(old, old) == []
