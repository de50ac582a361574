"""Property tests: weekly hours and targets survive a dump → load round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.policy.durations import MAX_BUSINESS_DAYS, Duration
from app.policy.model import Target
from app.schemas.fields import WeeklyHoursField, dump_hours, dump_target, parse_target


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return tuple((cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts), 2))


weeks = st.tuples(*[day_hours()] * 7).filter(any)


@given(weeks)
def test_weekly_hours_round_trip(week) -> None:
    assert WeeklyHoursField().deserialize(dump_hours(week)) == week


durations = st.one_of(
    st.integers(1, 100_000).map(lambda m: Duration(minutes=m)),
    st.integers(1, MAX_BUSINESS_DAYS).map(lambda d: Duration(business_days=d)),  # longer is refused
)
targets = st.one_of(
    st.builds(
        Target,
        durations,
        st.sampled_from([None, "dresden", "24x7", "follow-the-sun"]),
        st.sampled_from([None, "see contract"]),
    ),
    st.builds(Target, st.none(), st.none(), st.sampled_from([None, "typically 2-3 business days"])),
    st.just(Target(Duration(at_closure=True))),
)


@given(targets)
def test_targets_round_trip(target: Target) -> None:
    assert parse_target(dump_target(target), allow_at_closure=True) == target
