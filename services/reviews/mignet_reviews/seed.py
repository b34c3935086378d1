"""The regional reviews of the GCM's first two cycles, as commands (public facts, REGIONAL_REVIEWS.md).

Loaded through the normal command path, so they become ordinary events. Each
command has a fixed id: loading twice writes nothing new.

The meetings' dates, venues, partners and stakeholder consultations are the
real ones. When each review was scheduled and opened for written
contributions is not in the sources, so a fixed rule stands in: opened four
months before its first meeting (stakeholder consultation or conference),
scheduled two months before that, closed when the intergovernmental meeting
ended. Reports are not published here: their addresses are not in the
sources, and an invented link would be worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from mignet_contracts import reviews as c
from mignet_contracts.envelope import Command
from mignet_contracts.reference import RegionCode
from mignet_runtime.client import MignetClient, RequestFailed

ACTOR = "seed:regional-reviews"
OPENS_BEFORE_FIRST_MEETING = timedelta(days=120)
SCHEDULED_BEFORE_OPENING = timedelta(days=60)


@dataclass(frozen=True)
class Review:
    region: RegionCode
    cycle: str
    meeting_start: date
    meeting_end: date
    venue: str
    consultations: tuple[date, ...] = ()
    partners: tuple[str, ...] = ()

    @property
    def review_id(self) -> str:
        return c.review_id(self.region, self.cycle)

    @property
    def opened_on(self) -> date:
        return min((*self.consultations, self.meeting_start)) - OPENS_BEFORE_FIRST_MEETING

    @property
    def scheduled_on(self) -> date:
        return self.opened_on - SCHEDULED_BEFORE_OPENING

    @property
    def closed_on(self) -> date:
        return self.meeting_end


R = RegionCode
REVIEWS: tuple[Review, ...] = (
    # First cycle, 2020-2021, informing the IMRF of May 2022.
    Review(
        R.EUROPE_NORTH_AMERICA_CENTRAL_ASIA,
        "2020-2021",
        date(2020, 11, 12),
        date(2020, 11, 13),
        "virtual",
        consultations=(date(2020, 11, 9),),
    ),
    Review(
        R.ARAB_REGION,
        "2020-2021",
        date(2021, 2, 24),
        date(2021, 2, 25),
        "virtual",
        partners=("League of Arab States", "IOM"),
    ),
    Review(R.ASIA_PACIFIC, "2020-2021", date(2021, 3, 10), date(2021, 3, 12), "Bangkok"),
    Review(R.LATIN_AMERICA_CARIBBEAN, "2020-2021", date(2021, 4, 26), date(2021, 4, 28), "virtual"),
    Review(
        R.AFRICA, "2020-2021", date(2021, 8, 31), date(2021, 9, 1), "virtual", partners=("African Union Commission",)
    ),
    # Second cycle, 2024-2025, informing the IMRF of May 2026.
    Review(
        R.EUROPE_NORTH_AMERICA_CENTRAL_ASIA,
        "2024-2025",
        date(2024, 3, 11),
        date(2024, 3, 11),
        "Geneva",
        consultations=(date(2024, 1, 29), date(2024, 2, 28)),
    ),
    Review(R.ARAB_REGION, "2024-2025", date(2024, 7, 3), date(2024, 7, 4), "Cairo"),
    Review(R.ASIA_PACIFIC, "2024-2025", date(2025, 2, 4), date(2025, 2, 6), "Bangkok"),
    Review(
        R.LATIN_AMERICA_CARIBBEAN,
        "2024-2025",
        date(2025, 3, 19),
        date(2025, 3, 20),
        "Santiago",
        consultations=(date(2025, 3, 18),),
    ),
    Review(
        R.AFRICA, "2024-2025", date(2024, 10, 9), date(2024, 10, 10), "Addis Ababa", consultations=(date(2024, 10, 8),)
    ),
)


def _commands_for(review: Review, actor: str) -> list[c.ReviewsCommand]:
    prefix = f"seed-review-{review.review_id}"
    return [
        c.ScheduleReview(
            command_id=f"{prefix}-schedule",
            actor=actor,
            region=review.region,
            cycle=review.cycle,
            stakeholder_consultations=review.consultations,
            meeting_start=review.meeting_start,
            meeting_end=review.meeting_end,
            venue=review.venue,
            partners=review.partners,
            occurred_on=review.scheduled_on,
        ),
        c.OpenReview(
            command_id=f"{prefix}-open", actor=actor, review_id=review.review_id, occurred_on=review.opened_on
        ),
        c.CloseReview(
            command_id=f"{prefix}-close", actor=actor, review_id=review.review_id, occurred_on=review.closed_on
        ),
    ]


def _due(commands: list[c.ReviewsCommand], today: date | None) -> list[c.ReviewsCommand]:
    today = today or date.today()
    # A command without a date happens today (the seed dates every one).
    return [command for command in commands if (command.occurred_on or today) <= today]


def seed_commands(actor: str = ACTOR, today: date | None = None) -> list[Command]:
    """All ten reviews; steps dated after ``today`` (default: the real today) are left for later."""
    return [command for review in REVIEWS for command in _due(_commands_for(review, actor), today)]


async def load(client: MignetClient, actor: str = ACTOR, today: date | None = None) -> dict:
    """Sends the seed commands through the normal command path.

    A review already scheduled by other means (another command id) is reported
    and left alone: the seed does not open or close someone else's review.
    """
    written = replayed = 0
    refused: list[dict] = []
    for review in REVIEWS:
        for command in _due(_commands_for(review, actor), today):
            try:
                result = await client.command(command)
            except RequestFailed as exc:
                if exc.error.code != "rejected":
                    raise
                refused.append({"command_id": command.command_id, "message": exc.error.message})
                break
            if result.replayed:
                replayed += 1
            else:
                written += 1
    return {"written": written, "replayed": replayed, "refused": refused}
