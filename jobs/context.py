"""What a job needs about one tenant: the tenant, its policy, its settings, its stores and its Jira.

Built fresh for every job from ids (jobs take ids, not objects); only immutable things are cached
in the process: compiled policies by version id (a version never changes) and the app's own
account id per tenant (also kept in Redis, so the web handler can drop the app's own echoes).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.policy.model import Policy
from app.schemas.policy import load_policy
from app.storage.audit import AuditLog
from app.storage.outbox import Outbox
from app.storage.policies import PolicyStore, PolicyVersion, TenantSettings, default_version
from app.storage.tickets import TicketStore
from jobs.bootstrap import services

if TYPE_CHECKING:
    import redis

    from app.bootstrap import Services
    from app.jira.client import JiraGateway
    from app.queueing.timers import TimerStore
    from app.storage.tenants import Tenant

log = logging.getLogger(__name__)

#: Namespace of the timer set (the worker's timer pump reads the same one).
TIMER_NAMESPACE = "tw"
#: The issue entity property Tierwise writes (declared in the descriptor's jiraEntityProperties).
SLA_PROPERTY = "tierwise.sla"


def app_account_key(tenant_key: str) -> str:
    """Redis key holding the app user's account id in a tenant's site."""
    return f"tw:app-account:{tenant_key}"


def issue_meta_key(tenant_key: str, issue_id: str) -> str:
    """Redis hash of what events told us about an issue and the record does not keep (type, assignee)."""
    return f"tw:issue:{len(tenant_key)}:{tenant_key}:{issue_id}"


class Stores:
    """The SQL stores and the timer set of one process's services."""

    def __init__(self, svc: Services) -> None:
        self.services = svc
        self.tickets = TicketStore(svc.session_factory)
        self.audit = AuditLog(svc.session_factory)
        self.outbox = Outbox(svc.session_factory)
        self.policies = PolicyStore(svc.session_factory)

    @cached_property
    def timers(self) -> TimerStore:
        from app.queueing.timers import TimerStore

        return TimerStore(self.services.redis, TIMER_NAMESPACE)


_stores: dict[int, Stores] = {}
_policies: dict[tuple[str, Any], Policy] = {}
_lock = threading.Lock()


def stores(svc: Services | None = None) -> Stores:
    """The stores of `svc` (the process's services by default), built once."""
    svc = svc or services()
    with _lock:
        found = _stores.get(id(svc))
        if found is None or found.services is not svc:
            found = _stores[id(svc)] = Stores(svc)
        return found


def compiled_policy(version: PolicyVersion) -> Policy:
    """The Policy of a version, compiled once per process (versions are immutable)."""
    key: tuple[str, Any] = (version.tenant_key, version.id) if version.id is not None else ("", version.note)
    with _lock:
        found = _policies.get(key)
    if found is None:
        found = load_policy(dict(version.document))
        with _lock:
            _policies[key] = found
    return found


@dataclass
class TenantContext:
    """One tenant as a job sees it."""

    tenant: Tenant
    stores: Stores
    version: PolicyVersion
    policy: Policy
    settings: TenantSettings

    @property
    def key(self) -> str:
        return self.tenant.client_key

    @property
    def redis(self) -> redis.Redis:
        return self.stores.services.redis

    @cached_property
    def jira(self) -> JiraGateway:
        """The Jira door for this tenant (each request signed with a fresh JWT)."""
        from jobs.bootstrap import jira_for

        return jira_for(self.tenant)

    def policy_for(self, version_id: int | None) -> tuple[PolicyVersion, Policy]:
        """The version a ticket started under (the tenant's current one when unknown or gone)."""
        if version_id is None or version_id == self.version.id:
            if version_id is None and self.version.id is not None:
                version = default_version(self.key)
                return version, compiled_policy(version)
            return self.version, self.policy
        found = self.stores.policies.get(self.key, version_id)
        if found is None:
            return self.version, self.policy
        return found, compiled_policy(found)

    def app_account_id(self) -> str | None:
        """The app user's account id in this site (one `myself` call per tenant, then Redis)."""
        cached = self.redis.get(app_account_key(self.key))
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        me = self.jira.myself()
        account = me.get("accountId") if isinstance(me, dict) else None
        if isinstance(account, str) and account:
            self.redis.set(app_account_key(self.key), account)
            return account
        return None

    def audit(self, issue_id: str, action: str, detail: dict[str, Any], at: datetime | None = None) -> None:
        self.stores.audit.record(self.key, issue_id, action, detail, at or datetime.now(UTC))


def load_context(tenant_key: str, svc: Services | None = None) -> TenantContext | None:
    """The tenant's context, or None when it is unknown or uninstalled (the job then does nothing)."""
    st = stores(svc)
    tenant = st.services.tenants.get(tenant_key)
    if tenant is None or not tenant.is_active:
        log.info("tenant %s is not installed: job skipped", tenant_key)
        return None
    version = st.policies.effective(tenant_key)
    return TenantContext(tenant, st, version, compiled_policy(version), st.policies.get_settings(tenant_key))
