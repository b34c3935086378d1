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


NETWORK_COORDINATOR = "IOM"
EXECUTIVE_COMMITTEE: tuple[str, ...] = ("ILO", "IOM", "OHCHR", "UNDESA", "UNDP", "UNHCR", "UNICEF", "UNODC")

# The FAQ counts 39 member entities in October 2020 without a public list;
# this is the Executive Committee, WHO, the members the brief names, and UN
# entities whose mandates make them members or plausible members.
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
        invited_to_executive_committee=code == "WHO",
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

CORE_WORKSTREAMS: tuple[str, ...] = ("2.1", "2.2")
WORKSTREAMS: dict[str, str] = {
    "2.1": "UN capacity at global, regional, national and local level to support member states",
    "2.2": "Support to member states for national action plans on migration and other GCM strategies",
    "data": "National capacity for data collection, analysis and dissemination",
    "alternatives-to-detention": "Alternatives to immigration detention",
    "regular-pathways-humanitarian": (
        "Regular pathways for admission and stay on compassionate, humanitarian and human rights grounds"
    ),
    "labour-mobility": "Regular pathways for decent work and labour mobility",
    "return-reintegration": "Safe and dignified return and sustainable reintegration",
    "access-to-services": "Safe and effective access to services for migrants",
}

CORE_WORKING_GROUPS: tuple[str, ...] = (
    "knowledge-platform",
    "un-system-wide-implementation",
    "national-implementation-plans",
)
WORKING_GROUPS: dict[str, str] = {
    "knowledge-platform": "Knowledge platform and connection hub",
    "un-system-wide-implementation": "UN system-wide GCM implementation",
    "national-implementation-plans": "GCM national implementation plans",
    "data": "Data",
    "alternatives-to-detention": "Alternatives to detention",
    "regular-pathways-vulnerable-situations": "Regular pathways for migrants in vulnerable situations",
    "bilateral-labour-migration-agreements": "Bilateral labour migration agreements",
    "return-reintegration": "Return and reintegration",
    "access-to-services": "Access to services",
}

# The first six are the FAQ's October 2020 grouping; the rest cover the
# countries the initiative has since reached.
CHAMPION_REGIONAL_GROUPS: dict[str, str] = {
    "asia-pacific": "Asia/Pacific",
    "east-africa": "East Africa",
    "latin-america-caribbean": "Latin America and the Caribbean",
    "middle-east-north-africa": "Middle East and North Africa",
    "west-africa": "West Africa",
    "western-european-and-others": "Western European and Others Group",
    "central-africa": "Central Africa",
    "southern-africa": "Southern Africa",
    "eastern-europe": "Eastern Europe",
    "central-asia": "Central Asia",
}

CHAMPION_CRITERIA: dict[str, str] = {
    "geographic-balance": "Geographic balance",
    "360-degree-vision": "Respect for the GCM's 360-degree vision",
    "host-government-commitment": "Commitment of the host government",
    "existing-un-network": "An existing UN network on migration or a similar UN coordination mechanism",
    "resident-coordinator-support": "Support from the UN Resident Coordinator",
    "alignment-with-processes": (
        "Alignment with other processes (Common Country Analyses, UN Sustainable Development Cooperation "
        "Frameworks, the Universal Periodic Review)"
    ),
}

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
