"""kb.yaml: support contact details per language."""

from __future__ import annotations

from kbengine.read.sources import load_config

CONFIG = b"""\
support:
  name: Service Desk
  email: desk@example.org
  hours: Monday to Friday, 08:00-18:00
  nl: {name: Servicedesk, hours: "maandag tot en met vrijdag, 08:00-18:00"}
"""


def test_support_hours_in_a_language_that_kb_yaml_translates():
    config, problems = load_config("kb.yaml", CONFIG)
    assert problems == []
    dutch = config.support.in_language("nl")
    assert (dutch.name, dutch.hours) == ("Servicedesk", "maandag tot en met vrijdag, 08:00-18:00")
    assert dutch.email == "desk@example.org"


def test_support_falls_back_to_the_default_text_for_other_languages():
    config, _ = load_config("kb.yaml", CONFIG)
    assert config.support.in_language("de").hours == "Monday to Friday, 08:00-18:00"


def test_unknown_field_in_a_support_translation_is_located():
    _, problems = load_config("kb.yaml", CONFIG.replace(b"{name:", b"{nmae:"))
    assert [(p.line, p.code) for p in problems] == [(5, "KB701")]
    assert "nmae" in problems[0].message
