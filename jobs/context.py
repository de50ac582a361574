"""What a job needs about one tenant: the tenant, its policy, its settings, its stores and its Jira.

Built fresh for every job from ids (jobs take ids, not objects), inside the job's one transaction
when it has one (`load_context(..., factory=tx.stores_factory)`); only immutable things are cached
in the process: compiled policies (`app.schemas.compiled`, one cache) and the app's own account
id per tenant (in Redis, so the web tier can drop the app's own echoes too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.keys import NAMESPACE, app_account_key
from app.policy.decide import InForce
from app.policy.decide import Settings as DecideSettings
from app.policy.events import TicketEvent, actor_of, is_app_echo
from app.policy.model import Policy
from app.policy.record import TicketRecord
from app.schemas.compiled import compiled_policy
from app.storage.audit import AuditLog
from app.storage.chat_webhooks import ChatWebhooks
from app.storage.outbox import Outbox
from app.storage.policies import PolicyStore, PolicyVersion, TenantSettings
from app.storage.ticket_unit import TicketUnit
from app.storage.tickets import TicketStore
from jobs.bootstrap import services

if TYPE_CHECKING:
    import redis

    from app.bootstrap import Services
    from app.jira.client import JiraGateway
    from app.queueing.timers import TimerStore
    from app.storage.tenants import Tenant, TenantStore

log = logging.getLogger(__name__)

class Stores:
    """The SQL stores and the timer set of one process's services."""

    def __init__(self, svc: Services) -> None:
        self.services = svc
        self.tickets = TicketStore(svc.session_factory)
        self.audit = AuditLog(svc.session_factory)
        self.outbox = Outbox(svc.session_factory)
        self.policies = PolicyStore(svc.session_factory)
        self.units = TicketUnit(svc.session_factory)

    @cached_property
    def timers(self) -> TimerStore:
        from app.queueing.timers import TimerStore

        return TimerStore(self.services.redis, NAMESPACE)

    @cached_property
    def chat_webhooks(self) -> ChatWebhooks:
        return ChatWebhooks(self.services.session_factory, self.services.secrets)


_stores: dict[int, Stores] = {}
_lock = threading.Lock()


def stores(svc: Services | None = None) -> Stores:
    """The stores of `svc` (the process's services by default), built once."""
    svc = svc or services()
    with _lock:
        found = _stores.get(id(svc))
        if found is None or found.services is not svc:
            found = _stores[id(svc)] = Stores(svc)
        return found


def version_policy(version: PolicyVersion) -> Policy:
    """The compiled Policy of a version (compiled once per process: versions are immutable)."""
    key: tuple[str, Any] = (version.tenant_key, version.id) if version.id is not None else ("", version.note)
    return compiled_policy(version.document, key)


@dataclass
class TenantContext:
    """One tenant as a job sees it."""

    tenant: Tenant
    stores: Stores
    version: PolicyVersion
    policy: Policy
    settings: TenantSettings
    policies: PolicyStore

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

    def policy_for(self, record: TicketRecord | None) -> tuple[PolicyVersion, Policy]:
        """The version a ticket runs under: the one it started under, else (new, unknown or gone) the
        tenant's current one — the one answer to "which policy runs this ticket"."""
        if record is None:
            return self.version, self.policy
        version = self.policies.ticket_version(self.key, record.policy_version_id, current=self.version)
        return (self.version, self.policy) if version is self.version else (version, version_policy(version))

    def in_force(self, record: TicketRecord | None) -> InForce:
        """`policy_for` as `decide` takes it."""
        version, policy = self.policy_for(record)
        return InForce(policy, version.id, version.number)

    def decide_settings(self, field_types: Mapping[str, str] | None = None) -> DecideSettings:
        """The tenant's settings as `decide` takes them (`field_types` from the prefetch)."""
        return DecideSettings(self.key, self.settings.field_bindings, field_types or {},
                              self.settings.oncall_webhook_url)

    def detach(self) -> None:
        """Read versions through the process's own sessions again (the job's transaction is over)."""
        self.policies = self.stores.policies

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

    def caused_by_app(self, event: TicketEvent) -> bool:
        """True for the echo of the app's own write (asks Jira who the app is at most once per tenant)."""
        return is_app_echo(actor_of(event), self.app_account_id)

    def audit(self, issue_id: str, action: str, detail: dict[str, Any], at: datetime | None = None) -> None:
        self.stores.audit.record(self.key, issue_id, action, detail, at or datetime.now(UTC))


def known_app_echo(redis_client: Any, tenant_key: str, event: TicketEvent) -> bool:
    """True when the actor is the app user whose id is already known (no Jira or database call)."""
    def known() -> str | None:
        raw = redis_client.get(app_account_key(tenant_key))
        return None if raw is None else (raw.decode() if isinstance(raw, bytes) else str(raw))

    return is_app_echo(actor_of(event), known)


def load_context(tenant_key: str, svc: Services | None = None, *, factory: Any = None) -> TenantContext | None:
    """The tenant's context, or None when it is unknown or uninstalled (the job then does nothing).

    With `factory` (a transaction's `stores_factory`) the reads join that transaction.
    """
    st = stores(svc)
    tenants: TenantStore = st.services.tenants
    policies = st.policies
    if factory is not None:
        from app.storage.tenants import TenantStore as _TenantStore

        tenants = _TenantStore(factory, st.services.secrets)
        policies = PolicyStore(factory)
    tenant = tenants.get(tenant_key)
    if tenant is None or not tenant.is_active:
        log.info("tenant %s is not installed: job skipped", tenant_key)
        return None
    version = policies.effective(tenant_key)
    return TenantContext(tenant, st, version, version_policy(version), policies.get_settings(tenant_key), policies)
