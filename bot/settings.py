"""Runtime configuration: one Settings object, built at start-up from the environment and passed down."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.rules import known_zone, zone_hint

DEFAULT_DATABASE_URL = "sqlite:///customers-bot.sqlite3"


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable in one line."""


class Settings(BaseSettings):
    """Everything the bot reads from the environment (or `.env`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: SecretStr = SecretStr("")
    slack_signing_secret: SecretStr = SecretStr("")
    slack_app_token: SecretStr = SecretStr("")
    slack_api_url: str = "https://slack.com/api/"
    product_url: str = ""
    refund_window_days: int = Field(default=14, ge=0, le=365)
    admin_user_ids: Annotated[frozenset[str], NoDecode] = frozenset()
    finance_user_ids: Annotated[frozenset[str], NoDecode] = frozenset()
    default_timezone: str = "UTC"
    digest_catchup_hours: int = Field(default=6, ge=0, le=72)
    platform_webhook_secret: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    log_level: str = "INFO"

    @field_validator("admin_user_ids", "finance_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept `U1,U2` from the environment as well as real collections."""
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Reject time zones the tz database does not know, at start-up rather than at 09:00 (any letter case)."""
        name = known_zone(value)
        if name is None:
            raise ValueError(f"unknown time zone {value!r}; use an Area/City name like Europe/Berlin{zone_hint(value)}")
        return name

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        """slack_sdk joins method names onto base_url, so it must end with a slash."""
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL like https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        """Only the two engines we test on are accepted."""
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @property
    def timezone(self) -> ZoneInfo:
        """The default zone for digests and for showing dates."""
        return ZoneInfo(self.default_timezone)

    def is_admin(self, user_id: str) -> bool:
        """Admins may export and change digests."""
        return user_id in self.admin_user_ids

    def is_finance(self, user_id: str) -> bool:
        """Finance figures are for finance users and admins."""
        return user_id in self.finance_user_ids or user_id in self.admin_user_ids

    def access_granters(self) -> str:
        """Who to ask for access, as Slack mentions (or a plain phrase when nobody is configured)."""
        if not self.admin_user_ids:
            return "the person who installed Customers Bot (set ADMIN_USER_IDS)"
        return ", ".join(f"<@{uid}>" for uid in sorted(self.admin_user_ids))


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation failure into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
