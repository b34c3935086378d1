"""The reviews service's contracts: regional reviews of the GCM and the contributions to them.

GCM paragraph 50 invites subregional, regional and cross-regional processes,
platforms and organizations, *including* the UN regional economic commissions
and regional consultative processes on migration, to review GCM implementation
in their regions, from 2020, to inform each International Migration Review Forum
(IMRF): a review records its region's commission and any further organizers of
those kinds. Resolution 73/326 (para 13) asks the Network to compile, in
preparation for the IMRF, *all* contributions from member states and other
stakeholders at local, national, regional and global level (the FAQ stresses
«كل», all); the FAQ adds that contributions to the regional reviews are
published on regional web pages. Contributions to the IMRF itself, outside any
regional review, name the forum (``imrf``, e.g. ``imrf-2022``) instead of a review.

Extensions, not in the FAQ or the resolution: the review lifecycle (planned,
open, closed, report published), the contribution lifecycle with moderation
(submitted, published, rejected, withdrawn; moderation guards against abuse,
it is not a selection), the rule that a member state contributes only to the
reviews of its own regional commission(s), and the rule that a contribution
names at least one GCM objective.

Aggregates:

* ``review``: one per region and cycle, id ``<region>-<cycle>`` (e.g.
  ``asia-pacific-2024-2025``), so the event store's optimistic concurrency keeps
  it to one; lifecycle planned -> open-for-contributions -> closed ->
  report-published.
* ``contribution``: id ``c-<16 hex>`` derived from the submitting command's id,
  so a retried submit targets the same aggregate; lifecycle submitted ->
  published | rejected, and submitted | published -> withdrawn.

Personal data: a contribution's contact (name, e-mail) travels sealed (encrypted
with its data subject's key, docs/privacy.md) in :class:`ContributionSubmitted`,
one event. Before encryption it needed a second event,
:class:`ContributionContactRecorded`, appended in the same atomic batch; events
of that kind in existing streams are still read.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StrictInt, StringConstraints, model_validator

from mignet_contracts import reference
from mignet_contracts.envelope import Actor, Command, Contract, Event, Query
from mignet_contracts.fields import (
    DEFAULT_PAGE,
    MAX_OFFSET,
    MAX_PAGE,
    PERSONAL,
    CountryCode,
    PersonalEmail,
    matching,
    max_items,
)
from mignet_contracts.privacy import ErasureRequest, PersonalDataErasure
from mignet_contracts.reference import RegionCode

SERVICE = "reviews"
EVENTS_SUBJECT = f"{SERVICE}.events.>"
REVIEW_EVENTS_SUBJECT = f"{SERVICE}.events.review.>"
CONTRIBUTION_EVENTS_SUBJECT = f"{SERVICE}.events.contribution.>"
COMMANDS_SUBJECT = f"{SERVICE}.commands.*"
QUERIES_SUBJECT = f"{SERVICE}.queries.*"

REVIEW = "review"
CONTRIBUTION = "contribution"

#: GCM paragraph 50: regional reviews take place from 2020.
FIRST_REVIEW_YEAR = 2020
MAX_LINKS = 20
MAX_URL_LENGTH = 2000

#: Fixed forever: contribution ids derive from it, so changing it would make a
#: retried submit-contribution create a second contribution.
CONTRIBUTION_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mignet.un-migration.int/reviews/contributions")


# --- Enumerations ---------------------------------------------------------------------


class ReviewStatus(StrEnum):
    """Extension: the FAQ and resolution 73/326 give no lifecycle for a regional review."""

    PLANNED = "planned"
    OPEN = "open-for-contributions"
    CLOSED = "closed"
    REPORT_PUBLISHED = "report-published"


class ContributionStatus(StrEnum):
    """Extension: moderation before publication, against abuse (not a selection of contributions)."""

    SUBMITTED = "submitted"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ContributorKind(StrEnum):
    MEMBER_STATE = "member-state"
    STAKEHOLDER = "stakeholder"


class OrganizerKind(StrEnum):
    """GCM paragraph 50: who may organize a regional review besides the region's UN commission."""

    UN_REGIONAL_COMMISSION = "un-regional-commission"
    REGIONAL_CONSULTATIVE_PROCESS = "regional-consultative-process"
    SUBREGIONAL = "subregional"
    REGIONAL = "regional"
    CROSS_REGIONAL = "cross-regional"


class Level(StrEnum):
    """Resolution 73/326 para 13: contributions at local, national, regional and global level."""

    LOCAL = "local"
    NATIONAL = "national"
    REGIONAL = "regional"
    GLOBAL = "global"


# --- Ids --------------------------------------------------------------------------------

_CYCLE_RE = re.compile(r"^(\d{4})-(\d{4})$")
_REVIEW_ID_RE = re.compile(r"^(?P<region>[a-z]+(?:-[a-z]+)*)-(?P<cycle>\d{4}-\d{4})$")
CONTRIBUTION_ID_PATTERN = r"^c-[0-9a-f]{16}$"
_REGION_CODES = frozenset(r.value for r in RegionCode)


def check_cycle(value: str) -> str:
    """A review cycle spans two consecutive years, ``"2024-2025"``; raises ValueError otherwise."""
    match = _CYCLE_RE.match(value)
    if not match:
        raise ValueError(f"cycle {value!r} must be two years joined by a hyphen, such as '2024-2025'")
    first, second = int(match[1]), int(match[2])
    if second != first + 1:
        raise ValueError(f"cycle {value!r} must span two consecutive years, such as '{first}-{first + 1}'")
    if first < FIRST_REVIEW_YEAR:
        raise ValueError(f"cycle {value!r} is too early: regional reviews of the GCM began in {FIRST_REVIEW_YEAR}")
    return value


def cycle_years(cycle: str) -> tuple[int, int]:
    first, second = check_cycle(cycle).split("-")
    return int(first), int(second)


def review_id(region: RegionCode | str, cycle: str) -> str:
    return f"{RegionCode(region).value}-{check_cycle(cycle)}"


def parse_review_id(value: str) -> tuple[RegionCode, str]:
    """The region and cycle a review id names; ValueError if it names none (or is not a string)."""
    match = _REVIEW_ID_RE.match(value) if isinstance(value, str) else None
    if not match or match["region"] not in _REGION_CODES:
        regions = ", ".join(RegionCode)
        raise ValueError(f"review id {value!r} must be '<region>-<cycle>', region one of {regions}")
    return RegionCode(match["region"]), check_cycle(match["cycle"])


#: GCM paragraph 49: the IMRF meets every four years, from 2022.
FIRST_IMRF_YEAR = 2022
_IMRF_RE = re.compile(r"^imrf-(\d{4})$")


def check_imrf(value: str) -> str:
    """An IMRF edition, ``imrf-<year>``: 2022, 2026, 2030 ...; raises ValueError otherwise."""
    match = _IMRF_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"an IMRF is named 'imrf-' and its year, such as 'imrf-2022', not {value!r}")
    year = int(match[1])
    if year < FIRST_IMRF_YEAR or (year - FIRST_IMRF_YEAR) % 4:
        raise ValueError(f"there is no IMRF in {year}: it meets every four years from {FIRST_IMRF_YEAR}")
    return value


def imrf_for_cycle(cycle: str) -> str:
    """The IMRF a review cycle informs: 2020-2021 informs imrf-2022, 2024-2025 imrf-2026."""
    return f"imrf-{cycle_years(cycle)[1] + 1}"


def contribution_id(command_id: str) -> str:
    return "c-" + uuid.uuid5(CONTRIBUTION_ID_NAMESPACE, command_id).hex[:16]


# --- Validated field types ----------------------------------------------------------------

# C0 and C1 controls and DEL. Format characters (Cf) stay allowed: right-to-left
# marks are needed in Arabic text, one of the UN's six official languages.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_TAB_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _single_line(value: str) -> str:
    if _CONTROL_RE.search(value):
        raise ValueError("must be a single line without control characters")
    return value


def _prose(value: str) -> str:
    # Browsers post CRLF; store one newline convention.
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_EXCEPT_TAB_NEWLINE_RE.search(value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value


# Metadata for ``Annotated[str, *_line(n)]``: the alias stays a visible ``str`` to type checkers.
def _line(max_length: int) -> tuple[StringConstraints, AfterValidator]:
    return StringConstraints(min_length=1, max_length=max_length), AfterValidator(_single_line)


def _text(max_length: int) -> tuple[StringConstraints, AfterValidator]:
    return StringConstraints(min_length=1, max_length=max_length), AfterValidator(_prose)


def _cycle(value: str) -> str:
    return check_cycle(value)


def _review_id(value: str) -> str:
    parse_review_id(value)
    return value


def _commission(value: str) -> str:
    code = value.upper()
    if code not in reference.REGIONAL_COMMISSIONS:
        raise ValueError(
            f"unknown regional commission {value!r}: expected one of {', '.join(reference.REGIONAL_COMMISSIONS)}"
        )
    return code


def _stakeholder_category(value: str) -> str:
    code = value.lower()
    if code not in reference.STAKEHOLDER_CATEGORIES:
        raise ValueError(
            f"unknown stakeholder category {value!r}: expected one of {', '.join(reference.STAKEHOLDER_CATEGORIES)}"
        )
    return code


def _objective(value: int) -> int:
    if value not in reference.GCM_OBJECTIVES:
        raise ValueError(f"unknown GCM objective {value}: the GCM's objectives are numbered 1 to 23")
    return value


def _guiding_principle(value: str) -> str:
    code = value.lower()
    if code not in reference.GUIDING_PRINCIPLES:
        raise ValueError(
            f"unknown guiding principle {value!r}: expected one of {', '.join(reference.GUIDING_PRINCIPLES)}"
        )
    return code


def _language(value: str) -> str:
    code = value.lower()
    if not reference.is_language(code):
        raise ValueError(f"unknown language {value!r}: expected an ISO 639-1 code such as 'en', 'fr' or 'ar'")
    return code


def _url(value: str, schemes: tuple[str, ...]) -> str:
    if _CONTROL_RE.search(value) or any(c.isspace() for c in value):
        raise ValueError("a link may not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise ValueError(f"not a valid link: {value!r} ({exc})") from None
    # Anything else (javascript:, data:, file:, mailto:) is unsafe or useless on a public page.
    if parts.scheme.lower() not in schemes:
        raise ValueError(f"only {' and '.join(schemes)} links are accepted, not {value[:60]!r}")
    if not parts.hostname:
        raise ValueError(f"link {value[:60]!r} has no host")
    if "@" in parts.netloc:
        # https://trusted.example@evil.example/ shows one host and opens another.
        raise ValueError(
            f"link {value[:60]!r} has a user name or password before its host (user@host): give the address without it"
        )
    return value


def _web_url(value: str) -> str:
    return _url(value, ("http", "https"))


def _https_url(value: str) -> str:
    return _url(value, ("https",))


def _sorted_unique(values: tuple) -> tuple:
    # Sets in JSON: one canonical, order-independent form.
    return tuple(sorted(set(values)))


def _unique(values: tuple) -> tuple:
    return tuple(dict.fromkeys(values))


Cycle = Annotated[str, AfterValidator(_cycle)]
ImrfId = Annotated[str, StringConstraints(max_length=16), AfterValidator(check_imrf)]
ReviewId = Annotated[str, StringConstraints(max_length=64), AfterValidator(_review_id)]
ContributionId = Annotated[
    str,
    *matching(
        CONTRIBUTION_ID_PATTERN, "a contribution id", "'c-' and 16 lower-case hex digits, such as c-0123456789abcdef"
    ),
]
CommissionCode = Annotated[str, StringConstraints(max_length=8), AfterValidator(_commission)]
StakeholderCategory = Annotated[str, StringConstraints(max_length=64), AfterValidator(_stakeholder_category)]
ObjectiveNumber = Annotated[StrictInt, AfterValidator(_objective)]
GuidingPrinciple = Annotated[str, StringConstraints(max_length=64), AfterValidator(_guiding_principle)]
LanguageCode = Annotated[
    str,
    *matching(r"^[A-Za-z]{2}$", "a language code", "two letters (ISO 639-1), such as 'en', 'fr' or 'ar'"),
    AfterValidator(_language),
]
WebUrl = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH), AfterValidator(_web_url)]
HttpsUrl = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH), AfterValidator(_https_url)]


# max_items: refused by count before the elements are validated (see fields.max_items).
def _at_least_one_objective(values: tuple) -> tuple:
    # Not Field(min_length=1): pydantic would add "should have at least 1 item after
    # validation" to the error of an out-of-range objective, which dropped it.
    if not values:
        raise ValueError("give at least one GCM objective, a number from 1 to 23")
    return values


Objectives = Annotated[
    tuple[ObjectiveNumber, ...],
    Field(max_length=23, json_schema_extra={"minItems": 1}),
    AfterValidator(_at_least_one_objective),
    AfterValidator(_sorted_unique),
    max_items(23),
]
GuidingPrinciples = Annotated[
    tuple[GuidingPrinciple, ...], Field(max_length=10), AfterValidator(_sorted_unique), max_items(10)
]
Links = Annotated[tuple[WebUrl, ...], Field(max_length=MAX_LINKS), AfterValidator(_unique), max_items(MAX_LINKS)]
ConsultationDates = Annotated[tuple[date, ...], Field(max_length=20), AfterValidator(_sorted_unique), max_items(20)]
Partners = Annotated[
    tuple[Annotated[str, *_line(200)], ...], Field(max_length=20), AfterValidator(_unique), max_items(20)
]

Title = Annotated[str, *_line(200)]
Summary = Annotated[str, *_text(2000)]
Body = Annotated[str, *_text(50_000)]
OrganizationName = Annotated[str, *_line(300)]
PersonName = Annotated[str, *_line(200)]
Venue = Annotated[str, *_line(200)]
Reason = Annotated[str, *_text(2000)]
Note = Annotated[str, *_text(2000)]


# --- Value objects ---------------------------------------------------------------------------


class MemberStateContributor(Contract):
    """A member state contributes to the review(s) of its own regional commission(s): an extension."""

    kind: Literal["member-state"] = "member-state"
    country: CountryCode


class StakeholderContributor(Contract):
    kind: Literal["stakeholder"] = "stakeholder"
    category: StakeholderCategory
    organization: OrganizationName
    country: CountryCode | None = None


Contributor = Annotated[MemberStateContributor | StakeholderContributor, Field(discriminator="kind")]


class ContributionContact(Contract):
    """PERSONAL DATA: only ever in :class:`ContributionContactRecorded`, encrypted; kept out of ``repr`` and logs."""

    name: Annotated[PersonName, PERSONAL]
    email: PersonalEmail


class _ContributionContent(Contract):
    """What a contribution says; all of it is public once the contribution is published."""

    contributor: Contributor
    level: Level
    title: Title
    summary: Summary
    body: Body | None = Field(default=None, description="Optional: a national report may be a summary and links.")
    objectives: Objectives = Field(
        description="The GCM objectives (1-23) it addresses; at least one (an extension: the resolution does not ask it)."
    )
    guiding_principles: GuidingPrinciples = ()
    language: LanguageCode
    links: Links = ()


class Organizer(Contract):
    """A process, platform or organization organizing a review with the region's commission (GCM para 50)."""

    kind: OrganizerKind
    name: Annotated[str, *_line(300)]


Organizers = Annotated[tuple[Organizer, ...], Field(max_length=20), max_items(20)]


class _ReviewPlan(Contract):
    """When and where a review meets.

    Cross-field rules (meeting dates in order and within the cycle's two years)
    are checked on :class:`ScheduleReview` only: recorded events must replay
    even if the rules tighten later.
    """

    stakeholder_consultations: ConsultationDates = ()
    meeting_start: date | None = None
    meeting_end: date | None = None
    venue: Venue | None = Field(default=None, description="A city, such as 'Bangkok', or 'virtual'.")
    partners: Partners = Field(default=(), description="Co-organizers, such as 'League of Arab States'.")
    organizers: Organizers = Field(
        default=(),
        description="Organizers besides the region's commission, by GCM paragraph 50's kinds (absent on older events).",
    )


# --- Events ------------------------------------------------------------------------------------


class ReviewsEvent(Event):
    service: ClassVar[str] = SERVICE


class ReviewEvent(ReviewsEvent):
    aggregate: ClassVar[str] = REVIEW
    id_field: ClassVar[str] = "review_id"

    review_id: ReviewId


class ContributionEvent(ReviewsEvent):
    aggregate: ClassVar[str] = CONTRIBUTION
    id_field: ClassVar[str] = "contribution_id"

    contribution_id: ContributionId


class RegionalReviewScheduled(_ReviewPlan, ReviewEvent):
    name: ClassVar[str] = "scheduled"

    region: RegionCode
    cycle: Cycle
    commission: CommissionCode


class ReviewOpenedForContributions(ReviewEvent):
    name: ClassVar[str] = "opened"


class ReviewClosed(ReviewEvent):
    name: ClassVar[str] = "closed"


class ReviewReportPublished(ReviewEvent):
    name: ClassVar[str] = "report-published"

    report_url: HttpsUrl
    published_on: date


class ContributionSubmitted(_ContributionContent, ContributionEvent):
    """The content of a submission, with its contact sealed (older submissions: see :class:`ContributionContactRecorded`).

    Not public: it is unmoderated until :class:`ContributionPublished`.
    ``region`` and ``cycle`` repeat the review's, so the cross-regional
    compilation for the IMRF needs no join.
    """

    name: ClassVar[str] = "submitted"
    public: ClassVar[bool] = False

    review_id: ReviewId | None = Field(default=None, description="Null for a contribution to the IMRF itself.")
    region: RegionCode | None = Field(default=None, description="The review's; null for one to the IMRF itself.")
    cycle: Cycle | None = Field(default=None, description="The review's; null for one to the IMRF itself.")
    imrf: ImrfId | None = Field(
        default=None, description="Set for a contribution to the IMRF itself, outside any regional review."
    )
    contact: ContributionContact | None = Field(
        default=None,
        description="Who to contact about it: personal data, sealed per data subject (x-personal). "
        "Absent on submissions recorded before encryption, whose contact is a contact-recorded event.",
    )


class ContributionContactRecorded(ContributionEvent):
    """PERSONAL DATA: who to contact about a contribution. No longer written (the contact is
    sealed in :class:`ContributionSubmitted`); events of this kind already recorded are read.

    Was appended in the same atomic batch as :class:`ContributionSubmitted`; never public.
    """

    name: ClassVar[str] = "contact-recorded"
    public: ClassVar[bool] = False

    contact: ContributionContact


class ContributionPersonalDataErased(PersonalDataErasure, ContributionEvent):
    """The contribution's contact was erased: the record, without the data. The content stays."""

    name: ClassVar[str] = "personal-data-erased"
    public: ClassVar[bool] = False


class PublishedContribution(_ContributionContent):
    """What a published contribution says, as it was submitted: public from then on (never its contact)."""

    review_id: ReviewId | None = Field(default=None, description="Null for a contribution to the IMRF itself.")
    region: RegionCode | None = Field(default=None, description="The review's; null for one to the IMRF itself.")
    cycle: Cycle | None = Field(default=None, description="The review's; null for one to the IMRF itself.")
    imrf: ImrfId | None = Field(
        default=None, description="Set for a contribution to the IMRF itself, outside any regional review."
    )


class ContributionPublished(ContributionEvent):
    name: ClassVar[str] = "published"

    note: Note | None = Field(default=None, description="The moderator's note, shown with the contribution.")
    contribution: PublishedContribution | None = Field(
        default=None,
        description="What was published (added within v1: absent on events recorded before it was).",
    )


class ContributionRejected(ContributionEvent):
    """Not public: the content it refers to never was."""

    name: ClassVar[str] = "rejected"
    public: ClassVar[bool] = False

    reason: Reason


class ContributionUnpublished(ContributionEvent):
    """A published contribution is no longer public (it was withdrawn): take down any copy of it.

    Public, unlike :class:`ContributionWithdrawn`, recorded with it, which holds who withdrew and why
    (the command's actor still travels in the ``ce-actor`` header of both).
    """

    name: ClassVar[str] = "unpublished"


class ContributionWithdrawn(ContributionEvent):
    """Not public: it names the actor who withdrew; public pages drop the contribution via projections."""

    name: ClassVar[str] = "withdrawn"
    public: ClassVar[bool] = False

    reason: Reason | None = None
    withdrawn_by: Annotated[Actor, PERSONAL]


# --- Commands -------------------------------------------------------------------------------


class ReviewsCommand(Command):
    service: ClassVar[str] = SERVICE

    occurred_on: date | None = Field(
        default=None,
        description="When it happened in the world, for back-filling history; defaults to today; never in the future.",
    )


class ScheduleReview(_ReviewPlan, ReviewsCommand):
    name: ClassVar[str] = "schedule-review"

    region: RegionCode
    cycle: Cycle
    commission: CommissionCode | None = Field(
        default=None,
        description="The region's UN regional commission; defaults to it, and must be it. Further organizers "
        "(regional consultative processes, subregional, regional and cross-regional ones) go in organizers.",
    )

    @model_validator(mode="after")
    def _meeting_dates_fit(self) -> ScheduleReview:
        if self.meeting_end is not None and self.meeting_start is None:
            raise ValueError("meeting_end needs a meeting_start")
        if self.meeting_start and self.meeting_end and self.meeting_end < self.meeting_start:
            raise ValueError(
                f"the meeting cannot end ({self.meeting_end.isoformat()}) before it starts "
                f"({self.meeting_start.isoformat()})"
            )
        first, second = cycle_years(self.cycle)
        for day in (self.meeting_start, self.meeting_end):
            if day is not None and not first <= day.year <= second:
                raise ValueError(f"the meeting date {day.isoformat()} falls outside the {self.cycle} cycle")
        return self

    @property
    def review_id(self) -> str:
        return review_id(self.region, self.cycle)


class OpenReview(ReviewsCommand):
    name: ClassVar[str] = "open-review"

    review_id: ReviewId


class CloseReview(ReviewsCommand):
    name: ClassVar[str] = "close-review"

    review_id: ReviewId


class PublishReviewReport(ReviewsCommand):
    """``published_on`` defaults to ``occurred_on``, itself defaulting to today."""

    name: ClassVar[str] = "publish-review-report"

    review_id: ReviewId
    report_url: HttpsUrl
    published_on: date | None = None


class SubmitContribution(_ContributionContent, ReviewsCommand):
    """Yields ContributionSubmitted, its contact sealed in it."""

    name: ClassVar[str] = "submit-contribution"

    review_id: ReviewId | None = Field(default=None, description="The regional review; or give imrf instead.")
    imrf: ImrfId | None = Field(
        default=None, description="A contribution to the IMRF itself (resolution 73/326 para 13), e.g. 'imrf-2026'."
    )
    contact: ContributionContact

    @model_validator(mode="after")
    def _one_destination(self) -> SubmitContribution:
        if (self.review_id is None) == (self.imrf is None):
            raise ValueError("give exactly one of review_id (a regional review) or imrf (the forum itself)")
        return self

    @property
    def contribution_id(self) -> str:
        return contribution_id(self.command_id)


class ErasePersonalData(ErasureRequest, ReviewsCommand):
    """Erase a contribution's contact (its name and e-mail); the contribution itself stays as it is."""

    name: ClassVar[str] = "erase-personal-data"

    contribution_id: ContributionId


class PublishContribution(ReviewsCommand):
    name: ClassVar[str] = "publish-contribution"

    contribution_id: ContributionId
    note: Note | None = None


class RejectContribution(ReviewsCommand):
    name: ClassVar[str] = "reject-contribution"

    contribution_id: ContributionId
    reason: Reason


class WithdrawContribution(ReviewsCommand):
    name: ClassVar[str] = "withdraw-contribution"

    contribution_id: ContributionId
    reason: Reason | None = None


# --- Queries ------------------------------------------------------------------------------------


class ReviewsQuery(Query):
    service: ClassVar[str] = SERVICE


class ListReviews(ReviewsQuery):
    name: ClassVar[str] = "list-reviews"

    region: RegionCode | None = None
    cycle: Cycle | None = None
    status: ReviewStatus | None = None


class GetReview(ReviewsQuery):
    name: ClassVar[str] = "get-review"

    review_id: ReviewId


class ListContributions(ReviewsQuery):
    name: ClassVar[str] = "list-contributions"

    review_id: ReviewId | None = None
    imrf: ImrfId | None = Field(default=None, description="Instead of review_id: contributions to the IMRF itself.")
    status: ContributionStatus | None = None
    contributor_kind: ContributorKind | None = None
    stakeholder_category: StakeholderCategory | None = None
    level: Level | None = None
    objective: ObjectiveNumber | None = None
    country: CountryCode | None = None
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)

    @model_validator(mode="after")
    def _one_destination(self) -> ListContributions:
        if (self.review_id is None) == (self.imrf is None):
            raise ValueError("give exactly one of review_id or imrf")
        return self


class GetContribution(ReviewsQuery):
    name: ClassVar[str] = "get-contribution"

    contribution_id: ContributionId


class ReviewFigures(ReviewsQuery):
    name: ClassVar[str] = "review-figures"

    review_id: ReviewId


class Compilation(ReviewsQuery):
    """Published contributions across regions and to the IMRF itself, compiled for the IMRF (resolution
    73/326, para 13: *all* contributions; moderation only keeps abuse out). ``received`` counts everything
    received by status, so what the compilation leaves out is visible."""

    name: ClassVar[str] = "compilation"

    imrf: ImrfId | None = Field(
        default=None,
        description="Only what informs this IMRF: contributions to it and to the regional reviews of the cycle before.",
    )
    cycle: Cycle | None = None
    region: RegionCode | None = None
    objective: ObjectiveNumber | None = None
    contributor_kind: ContributorKind | None = Field(default=None, description="Member states or stakeholders only.")
    stakeholder_category: StakeholderCategory | None = Field(
        default=None, description="Stakeholders of this category only (implies contributor_kind stakeholder)."
    )
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)

    @model_validator(mode="after")
    def _category_of_stakeholders(self) -> Compilation:
        if self.stakeholder_category and self.contributor_kind is ContributorKind.MEMBER_STATE:
            raise ValueError("a stakeholder category selects stakeholders, not member states")
        return self


# --- Catalogues -------------------------------------------------------------------------------------

REVIEWS_EVENTS: tuple[type[Event], ...] = (
    RegionalReviewScheduled,
    ReviewOpenedForContributions,
    ReviewClosed,
    ReviewReportPublished,
    ContributionSubmitted,
    ContributionContactRecorded,
    ContributionPublished,
    ContributionRejected,
    ContributionWithdrawn,
    ContributionPersonalDataErased,
    ContributionUnpublished,
)
REVIEWS_COMMANDS: tuple[type[Command], ...] = (
    ScheduleReview,
    OpenReview,
    CloseReview,
    PublishReviewReport,
    SubmitContribution,
    PublishContribution,
    RejectContribution,
    WithdrawContribution,
    ErasePersonalData,
)
REVIEWS_QUERIES: tuple[type[Query], ...] = (
    ListReviews,
    GetReview,
    ListContributions,
    GetContribution,
    ReviewFigures,
    Compilation,
)

_EVENTS_BY_NAME: dict[tuple[str, str], type[Event]] = {(e.aggregate, e.name): e for e in REVIEWS_EVENTS}


def event_class(aggregate: str, name: str) -> type[Event]:
    try:
        return _EVENTS_BY_NAME[(aggregate, name)]
    except KeyError:
        raise KeyError(f"no reviews event {aggregate}.{name}") from None
