"""SLA timers in Redis: one sorted-set member per (tenant, issue, target, kind), claimed exactly once.

Layout (``ns`` defaults to ``tw``):

- ``{ns}:timers:due``    ZSET  member → the instant to fire (epoch seconds, integer)
- ``{ns}:timers:lease``  ZSET  claimed member → when its claim lapses (a dead poller's timers come back)
- ``{ns}:timers:claims`` HASH  claimed member → ``"<instant> <claim token>"``
- ``{ns}:timers:tenants`` / ``{ns}:timers:tenant_keys`` HASH  tenant key ↔ short id, so a member is
  ``"7|10042|f|b"`` rather than a 36-80 character client key (bench/bench_timers.py measures the saving).

Finding due timers is ``ZRANGEBYSCORE … LIMIT``: O(log N + M) for M due among N open.
A timer moves when re-scheduled (ZADD of the same member), and a claim is tied to the instant it was
claimed for: re-scheduling or cancelling drops the claim, so the old instant can no longer fire.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import redis
from redis.commands.core import Script

from app.keys import FIRE_TIMER_JOB, NAMESPACE
from app.policy.model import FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION
from app.policy.timefmt import timer_instant
from app.queueing.rqjob import LUA_PUSH_JOB, prepare_job

TimerKind = Literal["warn", "breach"]
#: The kinds of timer an SLA target has: a pre-breach warning and the breach itself.
KINDS: tuple[TimerKind, ...] = ("warn", "breach")
#: One-letter codes for the policy's targets and kinds, to keep members short (other names stay verbatim).
_TARGET_CODES = {FIRST_RESPONSE: "f", NEXT_UPDATE: "u", RESOLUTION: "r"}
_KIND_CODES = {"warn": "w", "breach": "b"}
_TARGET_NAMES = {v: k for k, v in _TARGET_CODES.items()}
_KIND_NAMES = {v: k for k, v in _KIND_CODES.items()}
#: How long a claimed timer stays claimed before another poller may fire it (its poller died).
DEFAULT_LEASE_SECONDS = 30
#: The job a fired timer becomes: ``fire_timer(tenant_key, issue_id, target, kind, deadline_ts)``.
DEFAULT_FIRE_JOB = FIRE_TIMER_JOB


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Timer:
    """A claimed timer: what to fire, and the claim that must be acknowledged."""

    tenant_key: str
    issue_id: str
    target: str
    kind: str
    deadline_ts: int  # the instant it was scheduled for (epoch seconds), see timer_instant()
    member: str = field(repr=False)
    claim: bytes | str = field(repr=False)  # "<instant> <token>", as the claim script stored it

    @property
    def at(self) -> datetime:
        """The instant the timer was scheduled for."""
        return datetime.fromtimestamp(self.deadline_ts, UTC)


# ARGV: instant, member, instant, member, ... KEYS: due, lease, claims.
# A member claimed for the same instant is being fired right now: leave it (no double fire).
# A member claimed for another instant is stale: drop the claim so it can never fire.
_SCHEDULE_LUA = """
local n = 0
for i = 1, #ARGV, 2 do
  local m = ARGV[i + 1]
  local c = redis.call('HGET', KEYS[3], m)
  local skip = false
  if c then
    if tonumber(string.match(c, '^(%S+)')) == tonumber(ARGV[i]) then
      skip = true
    else
      redis.call('HDEL', KEYS[3], m)
      redis.call('ZREM', KEYS[2], m)
    end
  end
  if not skip then
    redis.call('ZADD', KEYS[1], ARGV[i], m)
    n = n + 1
  end
end
return n
"""

# ARGV: now, limit, lease until, token. KEYS: due, lease, claims.
_CLAIM_LUA = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, m in ipairs(expired) do
  local c = redis.call('HGET', KEYS[3], m)
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], m)
  if c then redis.call('ZADD', KEYS[1], 'NX', string.match(c, '^(%S+)'), m) end
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do
  local m = due[i]
  due[i + 1] = due[i + 1] .. ' ' .. ARGV[4]
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], ARGV[3], m)
  redis.call('HSET', KEYS[3], m, due[i + 1])
end
return due
"""

# ARGV: member, claim. KEYS: claims, lease.
_ACK_BODY = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
"""
_ACK_LUA = _ACK_BODY + "return 1\n"
# Fire = ack + push the rq job, atomically. KEYS: claims, lease, job, queue, queues set.
_FIRE_LUA = LUA_PUSH_JOB + _ACK_BODY + "push_job(KEYS[3], KEYS[4], KEYS[5], 3)\nreturn 1\n"

# ARGV: tenant key. KEYS: tenant → id, id → tenant, sequence.
_INTERN_LUA = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then return id end
id = tostring(redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[1], ARGV[1], id)
redis.call('HSET', KEYS[2], id, ARGV[1])
return id
"""


class TimerStore:
    """Schedule, move, cancel and claim SLA timers kept in one Redis sorted set."""

    def __init__(
        self,
        redis: redis.Redis,
        namespace: str = NAMESPACE,
        *,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
        intern_tenants: bool = True,
    ) -> None:
        self.redis = redis
        self.lease_seconds = lease_seconds
        self.intern_tenants = intern_tenants
        base = f"{namespace}:timers"
        self.due_key = f"{base}:due"
        self.lease_key = f"{base}:lease"
        self.claims_key = f"{base}:claims"
        self._tenant_ids_key = f"{base}:tenants"
        self._tenant_keys_key = f"{base}:tenant_keys"
        self._tenant_seq_key = f"{base}:tenant_seq"
        self._schedule: Script = redis.register_script(_SCHEDULE_LUA)
        self._claim: Script = redis.register_script(_CLAIM_LUA)
        self._ack: Script = redis.register_script(_ACK_LUA)
        self._fire: Script = redis.register_script(_FIRE_LUA)
        self._intern: Script = redis.register_script(_INTERN_LUA)
        self._id_of: dict[str, str] = {}
        self._tenant_of: dict[str, str] = {}

    # -- members -------------------------------------------------------------------------------

    def _tenant_id(self, tenant_key: str) -> str:
        if not self.intern_tenants:
            return tenant_key
        tid = self._id_of.get(tenant_key)
        if tid is None:
            keys = [self._tenant_ids_key, self._tenant_keys_key, self._tenant_seq_key]
            tid = _text(self._intern(keys=keys, args=[tenant_key]))
            self._id_of[tenant_key], self._tenant_of[tid] = tid, tenant_key
        return tid

    def _tenant_key(self, tid: str) -> str:
        if not self.intern_tenants:
            return tid
        tenant_key = self._tenant_of.get(tid)
        if tenant_key is None:
            raw = self.redis.hget(self._tenant_keys_key, tid)
            if raw is None:
                raise LookupError(f"timer tenant id {tid} is unknown in {self._tenant_keys_key}")
            tenant_key = _text(raw)
            self._tenant_of[tid], self._id_of[tenant_key] = tenant_key, tid
        return tenant_key

    def member(self, tenant_key: str, issue_id: str | int, target: str, kind: str) -> str:
        """The sorted-set member naming one timer."""
        if kind not in _KIND_CODES:
            raise ValueError(f"timer kind {kind!r} is not one of {KINDS}")
        issue = str(issue_id)
        for name, value in (("tenant key", tenant_key), ("issue id", issue), ("target", target)):
            if not value or "|" in value:
                raise ValueError(f"timer {name} {value!r} is empty or contains '|'")
        if target not in _TARGET_CODES and len(target) == 1:
            raise ValueError(f"timer target {target!r}: one-letter names are reserved")
        code = _TARGET_CODES.get(target, target)
        return f"{self._tenant_id(tenant_key)}|{issue}|{code}|{_KIND_CODES[kind]}"

    def _parse(self, member: str) -> tuple[str, str, str, str]:
        tid, issue, code, kind = member.split("|")
        return self._tenant_key(tid), issue, _TARGET_NAMES.get(code, code), _KIND_NAMES[kind]

    # -- scheduling ----------------------------------------------------------------------------

    def schedule(self, tenant_key: str, issue_id: str | int, target: str, kind: str, at: datetime) -> None:
        """Make the timer fire at ``at``; a timer already scheduled for the same slot moves there."""
        self.schedule_many([(tenant_key, issue_id, target, kind, at)])

    def schedule_many(
        self, timers: Iterable[tuple[str, str | int, str, str, datetime]], pipeline: Any = None
    ) -> None:
        """Schedule (or move) many timers in one script call (or queue it on ``pipeline``)."""
        args: list[Any] = []
        for tenant_key, issue_id, target, kind, at in timers:
            args += (timer_instant(at), self.member(tenant_key, issue_id, target, kind))
        if args:
            keys = [self.due_key, self.lease_key, self.claims_key]
            self._schedule(keys=keys, args=args, client=pipeline)

    def cancel(
        self, tenant_key: str, issue_id: str | int, target: str | None = None, kind: str | None = None
    ) -> None:
        """Cancel one issue's timers: all of them, one target's, or one (target, kind)."""
        targets: Sequence[str] = (target,) if target else tuple(_TARGET_CODES)
        kinds: Sequence[str] = (kind,) if kind else KINDS
        self.cancel_many([(tenant_key, issue_id, t, k) for t in targets for k in kinds])

    def cancel_many(self, timers: Iterable[tuple[str, str | int, str, str]], pipeline: Any = None) -> None:
        """Cancel timers given as (tenant, issue, target, kind), claimed ones included (or queue it on ``pipeline``)."""
        members = [self.member(*timer) for timer in timers]
        if not members:
            return
        pipe = self.redis.pipeline(transaction=True) if pipeline is None else pipeline
        pipe.zrem(self.due_key, *members)
        pipe.zrem(self.lease_key, *members)
        pipe.hdel(self.claims_key, *members)
        if pipeline is None:
            pipe.execute()

    def cancel_issue(self, tenant_key: str, issue_id: str | int) -> None:
        """Cancel every timer of an issue (it was resolved, deleted, or left the SLA's scope)."""
        self.cancel(tenant_key, issue_id)

    def scheduled_at(self, tenant_key: str, issue_id: str | int, target: str, kind: str) -> datetime | None:
        """When a timer is due to fire, or None when it is not scheduled (or already claimed)."""
        score = self.redis.zscore(self.due_key, self.member(tenant_key, issue_id, target, kind))
        return None if score is None else datetime.fromtimestamp(score, UTC)

    def count(self) -> int:
        """The number of timers waiting to fire."""
        return int(self.redis.zcard(self.due_key))

    # -- firing --------------------------------------------------------------------------------

    def due(self, now: datetime, limit: int = 100) -> list[tuple[str, str, str, str, int]]:
        """Peek at up to ``limit`` due timers without claiming them (tenant, issue, target, kind, instant)."""
        rows: list[tuple[bytes, float]] = self.redis.zrangebyscore(  # type: ignore[assignment]
            self.due_key, "-inf", now.timestamp(), 0, limit, withscores=True
        )
        return [(*self._parse(_text(m)), int(s)) for m, s in rows]

    def claim_due(self, now: datetime, limit: int = 100) -> list[Timer]:
        """Atomically claim up to ``limit`` timers due at ``now``; no other claimer gets them.

        A claim not acknowledged (``ack`` or ``fire``) within the lease is returned to the due set,
        so a poller that dies mid-way loses nothing. Claims whose lease lapsed come back first.
        """
        ts = now.timestamp()
        keys = [self.due_key, self.lease_key, self.claims_key]
        rows = self._claim(keys=keys, args=[ts, limit, ts + self.lease_seconds, uuid.uuid4().hex])
        timers = []
        for i in range(0, len(rows), 2):
            member, claim = _text(rows[i]), rows[i + 1]
            tenant_key, issue, target, kind = self._parse(member)
            instant = int(float(_text(claim).split(" ", 1)[0]))
            timers.append(Timer(tenant_key, issue, target, kind, instant, member, claim))
        return timers

    def ack(self, timer: Timer) -> bool:
        """Release a handled claim; False when the claim was lost (lease lapsed, timer moved or cancelled)."""
        return bool(self._ack(keys=[self.claims_key, self.lease_key], args=[timer.member, timer.claim]))

    def fire(
        self,
        timers: Sequence[Timer],
        queue_name: str,
        job_func: str = DEFAULT_FIRE_JOB,
        *,
        job_timeout: int | None = None,
    ) -> list[bool]:
        """Enqueue ``job_func(tenant_key, issue_id, target, kind, deadline_ts)`` for each claimed timer.

        Each enqueue and its acknowledgement are one atomic script: a timer whose claim is still
        held fires exactly once; one whose claim was lost (moved, cancelled, lease lapsed and taken
        by another poller) enqueues nothing. All timers go in one pipelined round trip.
        """
        if not timers:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for t in timers:
            job = prepare_job(
                self.redis,
                queue_name,
                job_func,
                (t.tenant_key, t.issue_id, t.target, t.kind, t.deadline_ts),
                timeout=job_timeout,
            )
            keys = [self.claims_key, self.lease_key, *job.keys()]
            self._fire(keys=keys, args=[t.member, t.claim, *job.args()], client=pipe)
        return [bool(r) for r in pipe.execute()]
