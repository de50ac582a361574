"""Pipeline fixtures: the stand-in, the app on a thread, the jobs run in-process by an rq SimpleWorker.

`pipeline` gives a Jira stand-in with Tierwise installed (signed install), webhooks delivered to
the real Flask app on 127.0.0.1 and ingested into the test Redis, and `run_jobs()` to work the
queue in this process (burst) with the same database and Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from pipeline_kit import STANDIN_BINDINGS, OncallReceiver, WsgiThread, free_port
from rq import Queue, SimpleWorker

from app import create_app
from app.bootstrap import Services
from app.settings import Settings
from jobs import bootstrap as jobs_bootstrap
from jobs.context import stores
from standin import JiraStandin

TEST_SECRET_KEY = "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ="


@dataclass
class Pipeline:
    jira: JiraStandin
    services: Services
    settings: Settings
    client_key: str
    #: A local webhook receiver (plain http on 127.0.0.1), the one host TIERWISE_ALLOW_HTTP_HOSTS lists.
    oncall: OncallReceiver

    @property
    def redis(self) -> redis.Redis:
        return self.services.redis

    def run_jobs(self) -> int:
        """Work the queue until empty (in this process); return the number of jobs run."""
        self.jira.wait_for_deliveries(10)
        queue = Queue(self.settings.queue_name, connection=self.redis)
        worker = SimpleWorker([queue], connection=self.redis)
        worker.work(burst=True, logging_level="WARNING")
        return int(worker.successful_job_count + worker.failed_job_count)

    def save_policy(self, document: dict[str, Any], bindings: dict[str, str] | None = None,
                    oncall: str | None = None) -> None:
        st = stores(self.services)
        st.policies.save(self.client_key, document, "test")
        st.policies.save_settings(self.client_key, {"field_bindings": bindings or STANDIN_BINDINGS,
                                                    "oncall_webhook_url": oncall}, "test")

    def record(self, issue: dict[str, Any]) -> Any:
        return stores(self.services).tickets.get(self.client_key, issue["id"])

    def audit(self, issue: dict[str, Any]) -> list[str]:
        entries = stores(self.services).audit.recent(self.client_key, issue["id"], 200)
        return [e.action for e in reversed(entries)]


@pytest.fixture
def pipeline(redis_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    port = free_port()
    with JiraStandin() as jira, closing(OncallReceiver()) as oncall:
        settings = Settings.from_env({
            "TIERWISE_ALLOW_HTTP_HOSTS": oncall.url.removeprefix("http://"),
            "TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"),
            "APP_BASE_URL": f"http://127.0.0.1:{port}",
            "TIERWISE_SECRET_KEY": TEST_SECRET_KEY,
            "REDIS_URL": redis_url,
            "CONNECT_INSTALL_KEYS_URL": jira.install_keys_url,
            "LOG_FORMAT": "text",
            "TIERWISE_QUEUE": "tierwise-test",
        })
        web = WsgiThread(create_app(settings), port=port)
        services = Services(settings)
        jobs_bootstrap.set_services(services)
        try:
            app = jira.install_app(settings.app_base_url + "/atlassian-connect.json")
            yield Pipeline(jira, services, settings, app.client_key, oncall)
        finally:
            jobs_bootstrap.set_services(None)
            web.close()
            services.close()
