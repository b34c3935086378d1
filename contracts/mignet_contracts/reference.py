"""Published reference data: regions, countries, UN entities, GCM vocabularies.

Pure data and small lookups, no I/O. Sources: the Network's FAQ (October 2020)
and the public facts in the project brief (DOMAIN.md, GCM_OBJECTIVES.md,
REGIONAL_REVIEWS.md). Codes are stable identifiers used in commands, events and
subjects; labels may be reworded without a contract change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pycountry


class RegionCode(StrEnum):
    """The five regions whose UN regional commissions organize GCM regional reviews."""

    AFRICA = "africa"
    ARAB_REGION = "arab-region"
    ASIA_PACIFIC = "asia-pacific"
    EUROPE_NORTH_AMERICA_CENTRAL_ASIA = "europe-north-america-central-asia"
    LATIN_AMERICA_CARIBBEAN = "latin-america-caribbean"


REGIONS: dict[RegionCode, str] = {
    RegionCode.AFRICA: "Africa",
    RegionCode.ARAB_REGION: "Arab region",
    RegionCode.ASIA_PACIFIC: "Asia and the Pacific",
    RegionCode.EUROPE_NORTH_AMERICA_CENTRAL_ASIA: "Europe, North America and Central Asia",
    RegionCode.LATIN_AMERICA_CARIBBEAN: "Latin America and the Caribbean",
}

#: The same names as they read inside a sentence, with their article: "in the Arab region".
REGIONS_IN_SENTENCE: dict[RegionCode, str] = {**REGIONS, RegionCode.ARAB_REGION: "the Arab region"}


def region_in_sentence(code: str) -> str:
    """A region's proper name for use after "in" or "for" ("the Arab region", "Africa")."""
    return REGIONS_IN_SENTENCE[RegionCode(code)]


@dataclass(frozen=True)
class RegionalCommission:
    code: str
    name: str
    region: RegionCode


REGIONAL_COMMISSIONS: dict[str, RegionalCommission] = {
    c.code: c
    for c in (
        RegionalCommission("ECA", "Economic Commission for Africa", RegionCode.AFRICA),
        RegionalCommission("ECE", "Economic Commission for Europe", RegionCode.EUROPE_NORTH_AMERICA_CENTRAL_ASIA),
        RegionalCommission(
            "ECLAC",
            "Economic Commission for Latin America and the Caribbean",
            RegionCode.LATIN_AMERICA_CARIBBEAN,
        ),
        RegionalCommission("ESCAP", "Economic and Social Commission for Asia and the Pacific", RegionCode.ASIA_PACIFIC),
        RegionalCommission("ESCWA", "Economic and Social Commission for Western Asia", RegionCode.ARAB_REGION),
    )
}


def commission_for_region(region: RegionCode | str) -> RegionalCommission:
    region = RegionCode(region)
    return next(c for c in REGIONAL_COMMISSIONS.values() if c.region is region)


# --- Countries -------------------------------------------------------------

_AF = RegionCode.AFRICA
_AR = RegionCode.ARAB_REGION
_AP = RegionCode.ASIA_PACIFIC
_EN = RegionCode.EUROPE_NORTH_AMERICA_CENTRAL_ASIA
_LA = RegionCode.LATIN_AMERICA_CARIBBEAN

# Membership of the regional commissions decides which regional review a
# country takes part in. A second region is listed where a country belongs to
# two review processes: the African ESCWA members also belong to ECA, and the
# Central Asian and Caucasus states, the Russian Federation and Türkiye are
# regional members of ESCAP as well as ECE. Comoros is in ECA only but is an
# Arab League state, which co-organizes the Arab regional review.
_REGIONS_BY_COUNTRY: dict[str, tuple[RegionCode, ...]] = {
    # ESCWA members in Africa
    **{cc: (_AR, _AF) for cc in ["DZ", "DJ", "EG", "LY", "MR", "MA", "SO", "SD", "TN"]},
    # ESCWA members in Western Asia (PS is an observer state)
    **{cc: (_AR,) for cc in ["BH", "IQ", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "AE", "YE"]},
    # ECA members other than the ESCWA ones
    **{
        cc: (_AF,)
        for cc in [
            "AO",
            "BJ",
            "BW",
            "BF",
            "BI",
            "CV",
            "CM",
            "CF",
            "TD",
            "CG",
            "CD",
            "CI",
            "GQ",
            "ER",
            "SZ",
            "ET",
            "GA",
            "GM",
            "GH",
            "GN",
            "GW",
            "KE",
            "LS",
            "LR",
            "MG",
            "MW",
            "ML",
            "MU",
            "MZ",
            "NA",
            "NE",
            "NG",
            "RW",
            "ST",
            "SN",
            "SC",
            "SL",
            "ZA",
            "SS",
            "TZ",
            "TG",
            "UG",
            "ZM",
            "ZW",
        ]
    },
    "KM": (_AF, _AR),
    # ECE members (VA is an observer state)
    **{
        cc: (_EN,)
        for cc in [
            "AL",
            "AD",
            "AT",
            "BY",
            "BE",
            "BA",
            "BG",
            "CA",
            "HR",
            "CY",
            "CZ",
            "DK",
            "EE",
            "FI",
            "FR",
            "DE",
            "GR",
            "HU",
            "IS",
            "IE",
            "IL",
            "IT",
            "LV",
            "LI",
            "LT",
            "LU",
            "MT",
            "MC",
            "ME",
            "NL",
            "MK",
            "NO",
            "PL",
            "PT",
            "MD",
            "RO",
            "SM",
            "RS",
            "SK",
            "SI",
            "ES",
            "SE",
            "CH",
            "UA",
            "GB",
            "US",
            "VA",
        ]
    },
    **{cc: (_EN, _AP) for cc in ["AM", "AZ", "GE", "KZ", "KG", "RU", "TJ", "TR", "TM", "UZ"]},
    # ECLAC members in Latin America and the Caribbean
    **{
        cc: (_LA,)
        for cc in [
            "AG",
            "AR",
            "BS",
            "BB",
            "BZ",
            "BO",
            "BR",
            "CL",
            "CO",
            "CR",
            "CU",
            "DM",
            "DO",
            "EC",
            "SV",
            "GD",
            "GT",
            "GY",
            "HT",
            "HN",
            "JM",
            "MX",
            "NI",
            "PA",
            "PY",
            "PE",
            "KN",
            "LC",
            "VC",
            "SR",
            "TT",
            "UY",
            "VE",
        ]
    },
    # ESCAP members in Asia and the Pacific, including the Pacific island states
    **{
        cc: (_AP,)
        for cc in [
            "AF",
            "AU",
            "BD",
            "BT",
            "BN",
            "KH",
            "CN",
            "KP",
            "FJ",
            "IN",
            "ID",
            "IR",
            "JP",
            "KI",
            "LA",
            "MY",
            "MV",
            "MH",
            "FM",
            "MN",
            "MM",
            "NR",
            "NP",
            "NZ",
            "PK",
            "PW",
            "PG",
            "PH",
            "KR",
            "WS",
            "SG",
            "SB",
            "LK",
            "TH",
            "TL",
            "TO",
            "TV",
            "VU",
            "VN",
        ]
    },
}

OBSERVER_STATES: tuple[str, ...] = ("PS", "VA")

# UN short names where pycountry's ISO name reads differently.
_UN_SHORT_NAMES: dict[str, str] = {
    "BO": "Bolivia (Plurinational State of)",
    "CD": "Democratic Republic of the Congo",
    "FM": "Micronesia (Federated States of)",
    "IR": "Iran (Islamic Republic of)",
    "KP": "Democratic People's Republic of Korea",
    "KR": "Republic of Korea",
    "MD": "Republic of Moldova",
    "PS": "State of Palestine",
    "TZ": "United Republic of Tanzania",
    "US": "United States of America",
    "VA": "Holy See",
    "VE": "Venezuela (Bolivarian Republic of)",
}


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    #: Regional-commission regions, primary first.
    regions: tuple[RegionCode, ...]

    @property
    def primary_region(self) -> RegionCode:
        return self.regions[0]


def _country_name(code: str) -> str:
    if code in _UN_SHORT_NAMES:
        return _UN_SHORT_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise LookupError(f"pycountry has no country {code!r}: the region table names a code it does not know")
    return country.name


COUNTRIES: dict[str, Country] = {
    cc: Country(cc, _country_name(cc), regions) for cc, regions in sorted(_REGIONS_BY_COUNTRY.items())
}


def country(code: str) -> Country:
    """The UN member or observer state with this ISO 3166-1 alpha-2 code (any case)."""
    try:
        return COUNTRIES[code.strip().upper()]
    except (KeyError, AttributeError):
        raise KeyError(f"unknown country code {code!r}") from None


def is_country(code: str) -> bool:
    return isinstance(code, str) and code.strip().upper() in COUNTRIES


# --- UN entities -------------------------------------------------------------


@dataclass(frozen=True)
class UnEntity:
    code: str
    name: str
    executive_committee: bool = False
    invited_to_executive_committee: bool = False
    #: True when the FAQ itself names the entity as a member; False when the
    #: catalogue assumes it (the FAQ counts 39 members without listing them).
    confirmed: bool = False


NETWORK_COORDINATOR = "IOM"
#: The FAQ: IOM coordinates the Network "and also acts as its secretariat".
NETWORK_SECRETARIAT = "IOM"
#: FAQ footnote 1 (line 27): UNHCR and UNICEF second staff to the secretariat.
#: Data about the global Network's secretariat, not a membership role.
SECRETARIAT_SECONDMENTS: tuple[str, ...] = ("UNHCR", "UNICEF")
EXECUTIVE_COMMITTEE: tuple[str, ...] = ("ILO", "IOM", "OHCHR", "UNDESA", "UNDP", "UNHCR", "UNICEF", "UNODC")
#: FAQ line 21: WHO "is invited continuously" to the Executive Committee's meetings (since COVID-19).
EXECUTIVE_COMMITTEE_INVITEES: tuple[str, ...] = ("WHO",)

# The FAQ counts 39 member entities in October 2020 without a public list. It
# names only the Executive Committee and WHO (``confirmed``); the rest are
# assumed: UN entities whose mandates make them members or plausible members.
_ENTITY_NAMES: dict[str, str] = {
    "ILO": "International Labour Organization",
    "IOM": "International Organization for Migration",
    "OHCHR": "Office of the United Nations High Commissioner for Human Rights",
    "UNDESA": "UN DESA",
    "UNDP": "United Nations Development Programme",
    "UNHCR": "Office of the United Nations High Commissioner for Refugees",
    "UNICEF": "United Nations Children's Fund",
    "UNODC": "United Nations Office on Drugs and Crime",
    "WHO": "World Health Organization",
    "FAO": "Food and Agriculture Organization of the United Nations",
    "UN-HABITAT": "UN-Habitat",
    "UNITAR": "United Nations Institute for Training and Research",
    "UNU": "United Nations University",
    "WFP": "World Food Programme",
    "UN-WOMEN": "UN Women",
    "ECA": "Economic Commission for Africa",
    "ECE": "Economic Commission for Europe",
    "ECLAC": "Economic Commission for Latin America and the Caribbean",
    "ESCAP": "Economic and Social Commission for Asia and the Pacific",
    "ESCWA": "Economic and Social Commission for Western Asia",
    "UNFPA": "United Nations Population Fund",
    "UNESCO": "United Nations Educational, Scientific and Cultural Organization",
    "UNEP": "United Nations Environment Programme",
    "UNAIDS": "Joint United Nations Programme on HIV/AIDS",
    "UNCTAD": "United Nations Conference on Trade and Development",
    "ITC": "International Trade Centre",
    "OCHA": "Office for the Coordination of Humanitarian Affairs",
    "UNOPS": "United Nations Office for Project Services",
    "UNRWA": "United Nations Relief and Works Agency for Palestine Refugees in the Near East",
    "DPPA": "Department of Political and Peacebuilding Affairs",
    "DCO": "Development Coordination Office",
    "UNV": "United Nations Volunteers",
    "IFAD": "International Fund for Agricultural Development",
    "WORLD-BANK": "World Bank Group",
    "UNIDO": "United Nations Industrial Development Organization",
    "UNDRR": "United Nations Office for Disaster Risk Reduction",
    "UNFCCC": "United Nations Framework Convention on Climate Change secretariat",
    "UNSSC": "United Nations System Staff College",
    "UNOCT": "United Nations Office of Counter-Terrorism",
}

UN_ENTITIES: dict[str, UnEntity] = {
    code: UnEntity(
        code,
        name,
        executive_committee=code in EXECUTIVE_COMMITTEE,
        invited_to_executive_committee=code in EXECUTIVE_COMMITTEE_INVITEES,
        confirmed=code in EXECUTIVE_COMMITTEE or code in EXECUTIVE_COMMITTEE_INVITEES,
    )
    for code, name in _ENTITY_NAMES.items()
}

# --- Stakeholders, GCM vocabularies, Network structure ---------------------------

STAKEHOLDER_CATEGORIES: dict[str, str] = {
    "civil-society": "Civil society",
    "migrant-diaspora": "Migrant and diaspora organizations",
    "faith-based": "Faith-based organizations",
    "local-authorities": "Local authorities and communities",
    "private-sector": "Private sector",
    "trade-unions": "Trade unions",
    "parliamentarians": "Parliamentarians",
    "nhri": "National human rights institutions",
    "red-cross-red-crescent": "International Red Cross and Red Crescent Movement",
    "academia": "Academia",
    "media": "Media",
    "others": "Others, such as women, children and youth",
}


@dataclass(frozen=True)
class Objective:
    number: int
    label: str
    title: str


GCM_OBJECTIVES: dict[int, Objective] = {
    number: Objective(number, label, title)
    for number, (label, title) in enumerate(
        (
            ("Data", "Collect and utilize accurate and disaggregated data as a basis for evidence-based policies"),
            (
                "Minimize adverse drivers",
                "Minimize the adverse drivers and structural factors that compel people to leave their country "
                "of origin",
            ),
            ("Information provision", "Provide accurate and timely information at all stages of migration"),
            (
                "Legal identity and documentation",
                "Ensure that all migrants have proof of legal identity and adequate documentation",
            ),
            ("Regular pathways", "Enhance availability and flexibility of pathways for regular migration"),
            (
                "Recruitment and decent work",
                "Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work",
            ),
            ("Reduce vulnerabilities", "Address and reduce vulnerabilities in migration"),
            ("Save lives", "Save lives and establish coordinated international efforts on missing migrants"),
            ("Counter smuggling", "Strengthen the transnational response to smuggling of migrants"),
            (
                "Eradicate trafficking",
                "Prevent, combat and eradicate trafficking in persons in the context of international migration",
            ),
            ("Manage borders", "Manage borders in an integrated, secure and coordinated manner"),
            (
                "Screening and referral",
                "Strengthen certainty and predictability in migration procedures for appropriate screening, "
                "assessment and referral",
            ),
            (
                "Alternatives to detention",
                "Use migration detention only as a measure of last resort and work towards alternatives",
            ),
            (
                "Consular protection",
                "Enhance consular protection, assistance and cooperation throughout the migration cycle",
            ),
            ("Access to basic services", "Provide access to basic services for migrants"),
            (
                "Inclusion and social cohesion",
                "Empower migrants and societies to realize full inclusion and social cohesion",
            ),
            (
                "Eliminate discrimination",
                "Eliminate all forms of discrimination and promote evidence-based public discourse to shape "
                "perceptions of migration",
            ),
            (
                "Skills development and recognition",
                "Invest in skills development and facilitate mutual recognition of skills, qualifications and "
                "competences",
            ),
            (
                "Migrant and diaspora contributions",
                "Create conditions for migrants and diasporas to fully contribute to sustainable development in "
                "all countries",
            ),
            (
                "Remittances",
                "Promote faster, safer and cheaper transfer of remittances and foster financial inclusion of migrants",
            ),
            (
                "Dignified return and reintegration",
                "Cooperate in facilitating safe and dignified return and readmission, as well as sustainable "
                "reintegration",
            ),
            (
                "Social protection",
                "Establish mechanisms for the portability of social security entitlements and earned benefits",
            ),
            (
                "International cooperation",
                "Strengthen international cooperation and global partnerships for safe, orderly and regular migration",
            ),
        ),
        start=1,
    )
}

GUIDING_PRINCIPLES: dict[str, str] = {
    "people-centred": "People-centred",
    "international-cooperation": "International cooperation",
    "national-sovereignty": "National sovereignty",
    "rule-of-law-due-process": "Rule of law and due process",
    "sustainable-development": "Sustainable development",
    "human-rights": "Human rights",
    "gender-responsive": "Gender-responsive",
    "child-sensitive": "Child-sensitive",
    "whole-of-government": "Whole-of-government approach",
    "whole-of-society": "Whole-of-society approach",
}

#: The FAQ's core priorities of the inaugural workplan (line 25).
CORE_PRIORITIES: dict[str, str] = {
    "regional-reviews": "Support the regional reviews of the GCM (from 2020, resolution 73/326)",
    "un-country-teams": "Enable UN country teams to support national governments in implementing the GCM",
    "biennial-report": "Prepare the Secretary-General's first biennial report on GCM implementation",
    "knowledge-platform": "Establish a global knowledge platform and connection hub",
}

#: Core workstreams, numbered as in the FAQ's section 6 (line 104).
CORE_WORKSTREAMS: dict[str, str] = {
    "2.1": "UN capacity at global, regional, national and local level to support member states",
    "2.2": "Support to member states for national action plans on migration and other GCM strategies",
}
#: Thematic workstreams, named as in the FAQ's section 6 (line 104); the thematic
#: working groups have the same names (footnote 5) and the same keys.
THEMATIC_WORKSTREAMS: dict[str, str] = {
    "data": "Data",
    "alternatives-to-detention": "Alternatives to detention",
    "regular-pathways-vulnerable-situations": "Regular pathways for migrants in vulnerable situations",
    "bilateral-labour-migration-agreements": "Bilateral labour migration agreements",
    "return-reintegration": "Return and reintegration",
    "access-to-services": "Access to services",
}
#: The workplan's thematic priorities (FAQ lines 33-38), a list of their own,
#: under the keys of the thematic workstreams that carry them.
THEMATIC_PRIORITIES: dict[str, str] = {
    "data": "National capacity for data collection, analysis and dissemination",
    "alternatives-to-detention": "Alternatives to immigration detention",
    "regular-pathways-vulnerable-situations": (
        "Regular pathways for admission and stay on compassionate, humanitarian and human rights grounds"
    ),
    "bilateral-labour-migration-agreements": "Regular pathways for decent work and labour mobility",
    "return-reintegration": "Safe and dignified return and sustainable reintegration",
    "access-to-services": "Safe and effective access to services for migrants",
}
#: Workstreams "may change and be added over time" (FAQ line 42): codes are stable, the list may grow.
WORKSTREAMS: dict[str, str] = {**CORE_WORKSTREAMS, **THEMATIC_WORKSTREAMS}


@dataclass(frozen=True)
class WorkingGroupRef:
    code: str
    name: str
    core: bool
    #: The workstream it serves; None for the knowledge platform, which the FAQ ties
    #: to a core priority rather than a numbered workstream.
    workstream: str | None


# FAQ footnote 5 (line 67): working groups exist "for some workstreams". The
# core groups' workstreams are our reading of section 6, not the FAQ's words.
WORKING_GROUPS: dict[str, WorkingGroupRef] = {
    g.code: g
    for g in (
        WorkingGroupRef("knowledge-platform", "Knowledge platform and connection hub", True, None),
        WorkingGroupRef("un-system-wide-implementation", "UN system-wide GCM implementation", True, "2.1"),
        WorkingGroupRef("national-implementation-plans", "GCM national implementation plans", True, "2.2"),
        *(WorkingGroupRef(code, name, False, code) for code, name in THEMATIC_WORKSTREAMS.items()),
    )
}
CORE_WORKING_GROUPS: tuple[str, ...] = tuple(code for code, g in WORKING_GROUPS.items() if g.core)

#: The FAQ's own grouping of the champion countries (line 50).
CHAMPION_REGIONAL_GROUPS: dict[str, str] = {
    "asia-pacific": "Asia/Pacific",
    "east-africa": "East Africa",
    "latin-america-caribbean": "Latin America and the Caribbean",
    "middle-east-north-africa": "Middle East and North Africa",
    "west-africa": "West Africa",
    "western-european-and-others": "Western European and Others Group",
}
#: Groups an earlier version accepted although the FAQ does not name them. Old
#: events that carry them still decode; new nominations cannot use them.
RETIRED_CHAMPION_REGIONAL_GROUPS: dict[str, str] = {
    "central-africa": "Central Africa",
    "southern-africa": "Southern Africa",
    "eastern-europe": "Eastern Europe",
    "central-asia": "Central Asia",
}

# The FAQ names the groups, not their members. Our reading, to check a
# nomination's group against its country: Asia/Pacific = the ESCAP members of
# the region table but the Russian Federation and Türkiye; East Africa = IOM's
# East and Horn of Africa with Sudan; Latin America and the Caribbean = ECLAC's;
# Middle East and North Africa = the Arab region, Iran and Israel; West Africa =
# ECOWAS and Mauritania; WEOG = the UN regional group (the United States sits
# with it). A country may fall in two groups (Australia: Asia/Pacific and WEOG).
_WEOG = "AD AU AT BE CA DK FI FR DE GR IS IE IL IT LI LU MT MC NL NZ NO PT SM ES SE CH TR GB US"
CHAMPION_GROUP_COUNTRIES: dict[str, frozenset[str]] = {
    "asia-pacific": frozenset(
        cc for cc, regions in _REGIONS_BY_COUNTRY.items() if _AP in regions and cc not in {"RU", "TR"}
    ),
    "east-africa": frozenset(["BI", "DJ", "ER", "ET", "KE", "RW", "SO", "SS", "SD", "TZ", "UG"]),
    "latin-america-caribbean": frozenset(cc for cc, regions in _REGIONS_BY_COUNTRY.items() if _LA in regions),
    "middle-east-north-africa": frozenset(
        {cc for cc, regions in _REGIONS_BY_COUNTRY.items() if _AR in regions} | {"IR", "IL"}
    ),
    "west-africa": frozenset(
        ["BJ", "BF", "CV", "CI", "GM", "GH", "GN", "GW", "LR", "ML", "MR", "NE", "NG", "SN", "SL", "TG"]
    ),
    "western-european-and-others": frozenset(_WEOG.split()),
}


def champion_groups_of(code: str) -> tuple[str, ...]:
    """The FAQ's champion groups a country falls in (by our reading above)."""
    return tuple(group for group, members in CHAMPION_GROUP_COUNTRIES.items() if code.upper() in members)


#: Assessed per country; geographic balance is a property of the whole set of champions.
CHAMPION_CRITERIA: dict[str, str] = {
    "geographic-balance": "Geographic balance",
    "360-degree-vision": "Respect for the GCM's 360-degree vision",
    "host-government-commitment": "Commitment of the host government",
    # «وجود»: the network exists, so one under consideration or being established does not count.
    "existing-un-network": "An existing UN network on migration or a similar UN coordination mechanism",
    "resident-coordinator-support": "Support from the UN Resident Coordinator",
    "alignment-with-processes": (
        "Alignment with other processes (Common Country Analyses, UN Sustainable Development Cooperation "
        "Frameworks, the Universal Periodic Review)"
    ),
}


@dataclass(frozen=True)
class SupportMeasure:
    code: str
    name: str
    detail: str


#: The FAQ's section 6 (lines 106-114): the support member states, UN country teams
#: and country networks can draw on. Codes are ours; names and details are the FAQ's.
SUPPORT_MEASURES: dict[str, SupportMeasure] = {
    m.code: m
    for m in (
        SupportMeasure(
            "national-implementation-plans",
            "Support for GCM national implementation plans",
            "Or advice on mainstreaming the GCM's objectives into existing national policies and action plans, "
            "with synergies with the Sustainable Development Goals",
        ),
        SupportMeasure(
            "specific-objectives",
            "Support on specific GCM objectives",
            "Targeted technical and capacity-building support, by national priorities and the GCM's 360-degree "
            "vision, through the Network's thematic areas",
        ),
        SupportMeasure(
            "un-system-coordination",
            "Stronger UN system coordination",
            "Support to UN country teams, national or regional UN networks and other UN coordination structures",
        ),
        SupportMeasure(
            "stakeholder-engagement",
            "Stronger stakeholder engagement",
            "Meaningful participation of all relevant stakeholders named in the GCM",
        ),
        SupportMeasure(
            "knowledge-management",
            "Knowledge management and sharing of information",
            "Good practices and lessons learned through the global knowledge platform and connection hub",
        ),
        SupportMeasure(
            "review-and-reporting",
            "Review and reporting",
            "On GCM implementation, including for the 2030 Agenda: the GCM regional reviews, the first IMRF "
            "(first half of 2022) and the regional reviews of the High-level Political Forum",
        ),
        SupportMeasure(
            "piloting-working-group-tools",
            "Piloting of working-group tools",
            "Piloting the relevant tools developed by the Network's core and thematic working groups",
        ),
    )
}
#: Where review-and-reporting support applies (FAQ line 113).
REVIEW_SETTINGS: dict[str, str] = {
    "gcm-regional-review": "GCM regional reviews",
    "imrf": "International Migration Review Forum",
    "hlpf-regional-review": "Regional reviews of the High-level Political Forum on Sustainable Development",
}
#: The FAQ's annex 5, which it names but our copy does not include: referenced, not reproduced.
REGIONAL_REVIEW_FRAMEWORK = {
    "code": "regional-review-framework",
    "name": "Proposed framework to assist member states in organizing the regional reviews",
    "source": "FAQ annex 5 (not in the copy this system was built from)",
}

#: The criteria a single nomination is assessed against: all but geographic balance.
COUNTRY_CHAMPION_CRITERIA: tuple[str, ...] = tuple(c for c in CHAMPION_CRITERIA if c != "geographic-balance")

LANGUAGES: dict[str, str] = {
    "ar": "Arabic",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "ru": "Russian",
    "zh": "Chinese",
}


def is_language(code: str) -> bool:
    """Any ISO 639-1 code; the six UN official languages are in LANGUAGES."""
    if not isinstance(code, str) or len(code.strip()) != 2:
        return False
    return pycountry.languages.get(alpha_2=code.strip().lower()) is not None
