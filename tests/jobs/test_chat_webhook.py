"""The chat action kind end to end: the URL stored encrypted, the message posted, only the host shown."""

from __future__ import annotations

from pathlib import Path

from pipeline_kit import OncallReceiver, short_policy

from jobs.context import stores


def test_a_chat_action_posts_slack_text_and_keeps_the_url_secret(pipeline, tmp_path: Path) -> None:
    receiver = OncallReceiver()
    try:
        secret_path = "/services/T0001/B0001/s3cr3tT0ken"
        url = receiver.url.rstrip("/") + secret_path
        st = stores(pipeline.services)
        pipeline.save_policy(short_policy(first_response="30m", actions=[
            {"on": "created", "kind": "chat", "params": {"webhook": "war-room"}, "severities": ["sev1"]}]))
        assert st.chat_webhooks.set(pipeline.client_key, "war-room", url, by="test") == "127.0.0.1"
        issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
        pipeline.run_jobs()

        assert receiver.pages == [{"text": f"{issue['key']}: Tierwise: sev1 ticket on tier standard."}]
        entries = st.audit.recent(pipeline.client_key, issue["id"], 50)
        chat = [e for e in entries if e.action == "chat"]
        assert len(chat) == 1 and chat[0].detail["host"] == "127.0.0.1" and chat[0].detail["webhook"] == "war-room"
        assert all("s3cr3tT0ken" not in repr(dict(e.detail)) for e in entries)
        settings = st.policies.get_settings(pipeline.client_key)
        assert settings.as_json()["chat_webhooks"] == {"war-room": {"host": "127.0.0.1"}}
        assert "s3cr3tT0ken" not in repr(settings.as_json())
        # At rest: neither the outbox nor the settings row holds the URL in clear.
        databases = list((tmp_path / "instance").rglob("*.db*"))
        assert databases and all(b"s3cr3tT0ken" not in p.read_bytes() for p in databases)
        assert st.chat_webhooks.url(pipeline.client_key, "war-room") == url
    finally:
        receiver.close()


def test_saving_the_settings_form_keeps_the_chat_webhooks(pipeline) -> None:
    st = stores(pipeline.services)
    st.chat_webhooks.set(pipeline.client_key, "room", "https://chat.example/hook/abc")
    pipeline.save_policy(short_policy())
    assert st.chat_webhooks.hosts(pipeline.client_key) == {"room": "chat.example"}
    st.chat_webhooks.remove(pipeline.client_key, "room")
    assert st.chat_webhooks.url(pipeline.client_key, "room") is None
