"""Settings: read from the environment, wrong values stop start-up with one line naming the variable."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_give_an_embedded_sqlite_store_and_slack_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.refund_window_days == 14
    assert settings.default_timezone == "UTC"
    assert settings.digest_catchup_hours == 6


def test_the_default_time_zone_is_read_in_any_letter_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_TIMEZONE", "america/new_york")
    assert load_settings(_env_file=None).default_timezone == "America/New_York"


def test_user_id_lists_are_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USER_IDS", "U1, U2,,")
    monkeypatch.setenv("FINANCE_USER_IDS", "U3")
    settings = load_settings(_env_file=None)
    assert settings.admin_user_ids == frozenset({"U1", "U2"})
    assert settings.is_admin("U1")
    assert settings.is_finance("U1")
    assert settings.is_finance("U3")
    assert not settings.is_admin("U3")
    assert not settings.is_finance("U9")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("REFUND_WINDOW_DAYS", "fourteen"),
        ("REFUND_WINDOW_DAYS", "-1"),
        ("SLACK_API_URL", "slack.com/api"),
        ("DATABASE_URL", "mysql://x"),
        ("DIGEST_CATCHUP_HOURS", "lots"),
    ],
)
def test_a_wrong_value_names_the_variable_in_one_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    message = str(info.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message


def test_slack_api_url_gets_the_trailing_slash_the_sdk_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    assert load_settings(_env_file=None).slack_api_url == "http://127.0.0.1:9999/api/"


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh-signing")
    settings = load_settings(_env_file=None)
    assert "xoxb-very-secret" not in repr(settings)
    assert "shh-signing" not in str(settings)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"
