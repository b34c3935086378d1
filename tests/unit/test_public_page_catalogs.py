"""The public pages' gettext catalogs: complete in every language, placeholders intact, the FAQ's Arabic terms."""

from __future__ import annotations

import pytest
from babel.messages.pofile import write_po

from mignet_contracts import reference
from mignet_reviews import catalogs, i18n

TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_pages_is_translated(language):
    assert catalogs.missing(language) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_message(language):
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalogs.load(language).check()]
    assert problems == []


def test_the_catalog_check_names_a_missing_message(tmp_path, monkeypatch):
    """The check itself can fail: a catalog without one of the messages is reported."""
    catalog = catalogs.load("fr")
    del catalog["Apply filters"]
    copy = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    with copy.open("wb") as po:
        write_po(po, catalog)
    monkeypatch.setattr(catalogs, "po_file", lambda language: tmp_path / language / "LC_MESSAGES" / "messages.po")
    assert catalogs.missing("fr") == ["Apply filters"]


def test_the_vocabularies_are_in_the_catalogs():
    needed = set(catalogs.vocabulary())
    assert {o.title for o in reference.GCM_OBJECTIVES.values()} <= needed
    assert set(reference.STAKEHOLDER_CATEGORIES.values()) <= needed
    assert {"ESCWA", "Economic and Social Commission for Western Asia", "Arab region"} <= needed
    assert {g.name for g in reference.WORKING_GROUPS.values()} <= needed
    assert set(reference.WORKSTREAMS.values()) <= needed
    assert {"Tool", "Data", "Analysis", "Guidance", "draft", "in review", "published"} <= needed


# The FAQ's own Arabic terms (../shared/brief/ARABIC_GLOSSARY.md, sections 6 and 7: FAQ lines 100 and 111).
FAQ_ARABIC = {
    reference.STAKEHOLDER_CATEGORIES["migrant-diaspora"]: "منظمات المهاجرين والشتات",
    reference.STAKEHOLDER_CATEGORIES["local-authorities"]: "السلطات والمجتمعات المحلية",
    reference.STAKEHOLDER_CATEGORIES["red-cross-red-crescent"]: "الحركة الدولية للصليب الأحمر والهلال الأحمر",
    reference.GUIDING_PRINCIPLES["people-centred"]: "الإنسان هو المركز",
    reference.GUIDING_PRINCIPLES["whole-of-government"]: "النهج الشامل للحكومة بأكملها",
    reference.CHAMPION_REGIONAL_GROUPS["western-european-and-others"]: "مجموعة أوروبا الغربية ودول أخرى",
    "being established": "في طور الإنشاء",
    # Workstreams and working groups (section 8: FAQ line 104 and footnote 5, line 67).
    reference.WORKING_GROUPS["knowledge-platform"].name: "منصة المعارف ومركز الاتصال",
    reference.WORKING_GROUPS["un-system-wide-implementation"].name: (
        "منظومة الأمم المتحدة لتنفيذ الاتفاق العالمي من أجل الهجرة"
    ),
    reference.WORKING_GROUPS["national-implementation-plans"].name: "خطط التنفيذ الوطنية للاتفاق العالمي من أجل الهجرة",
    reference.THEMATIC_WORKSTREAMS["data"]: "البيانات",
    reference.THEMATIC_WORKSTREAMS["alternatives-to-detention"]: "بدائل الاحتجاز",
    reference.THEMATIC_WORKSTREAMS[
        "regular-pathways-vulnerable-situations"
    ]: "المسارات النظامية للمهاجرين في أوضاع هشّة",
    reference.THEMATIC_WORKSTREAMS["bilateral-labour-migration-agreements"]: "اتفاقات هجرة اليد العاملة الثنائية",
    reference.THEMATIC_WORKSTREAMS["return-reintegration"]: "عمليات العودة وإعادة الإدماج",
    reference.THEMATIC_WORKSTREAMS["access-to-services"]: "الحصول على الخدمات",
    reference.CORE_WORKSTREAMS["2.1"]: (
        "تعزيز قدرات الأمم المتحدة على الصعيد العالمي والإقليمي والوطني والمحلي لدعم الدول الأعضاء في تنفيذها لأحكام الاتفاق"
    ),
    reference.CORE_WORKSTREAMS["2.2"]: (
        "تقديم الدعم إلى الدول الأعضاء في وضع خطط عمل وطنية بشأن الهجرة واستراتيجيات أخرى لتنفيذ الاتفاق العالمي من أجل"
        " الهجرة على الصعيد الوطني"
    ),
    "Working groups": "الأفرقة العاملة",
    "Core working groups": "الأفرقة العاملة الأساسية",
    "Thematic working groups": "الأفرقة العاملة المواضيعية",
    "United Nations Network on Migration": "شبكة الأمم المتحدة المعنية بالهجرة",
}
#: Typos of the Arabic source that must not reach the pages (glossary section 11).
SOURCE_TYPOS = ["الرؤاد", "اليونسيف", "39 كيانات", "وتسمى الشبكة", "المهمة بدعم"]


def test_arabic_uses_the_faqs_own_terms_without_its_typos():
    catalog = catalogs.load("ar")
    assert {english: catalog[english].string for english in FAQ_ARABIC} == FAQ_ARABIC
    text = catalogs.po_file("ar").read_text(encoding="utf-8")
    assert [typo for typo in SOURCE_TYPOS if typo in text] == []
    # One term for champion countries everywhere (the FAQ has two).
    assert "البلدان المدافعة" not in text and "الدول الرائدة" in text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-DE, es;q=0.5, ru;q=0.7", "ru"),
        ("zh-Hans-CN", "zh"),
        ("ar-EG,en;q=0.9", "ar"),
        ("en;q=0.5, es;q=0.5", "en"),  # a tie: the first named wins
        ("ar;q=0, es;q=0.1", "es"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("fr;q=banana, es", "es"),
    ],
)
def test_the_language_of_an_address_without_one_follows_accept_language(header, language):
    assert i18n.negotiate(header) == language


def test_a_message_missing_from_a_catalog_falls_back_to_english_and_is_recorded():
    i18n.MISSING.discard(("fr", "A message no catalog has"))
    assert i18n.translations("fr").gettext("A message no catalog has") == "A message no catalog has"
    assert ("fr", "A message no catalog has") in i18n.MISSING
    i18n.MISSING.discard(("fr", "A message no catalog has"))
    assert i18n.translations("fr").gettext("Apply filters") == "Appliquer les filtres"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_carry_no_markup(language):
    """Templates trust their catalogs' text as HTML (Jinja's gettext): a translation must hold none."""
    marked = []
    for message in catalogs.load(language):
        if not message.id:
            continue  # the header (Plural-Forms has its "<" and "&&")
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        marked += [s for s in strings if any(ch in s for ch in "<>&")]
    assert marked == []
