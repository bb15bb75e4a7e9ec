"""Settings of the notifications service, from SMARTCITY_NOTIFICATIONS_<NAME> (or SMARTCITY_<NAME>).

The defaults send mail to the local SMTP sink that `make run` starts (scripts/smtp_sink.py).
"""
import ipaddress
from dataclasses import dataclass

from shared.config import service_env

SMTP_SECURITY = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class NotificationSettings:
    smtp_host: str
    smtp_port: int
    smtp_security: str  # none | starttls | ssl (implicit TLS, port 465)
    smtp_user: str | None
    smtp_password: str | None
    smtp_ca_file: str | None  # trust this CA for the server's certificate (else the system's)
    smtp_timeout: float
    mail_from: str
    public_url: str  # where the links in mails point: confirmation, unsubscribe, data export
    idea_pages_url: str  # reporting's public pages: every mail about a public idea links to its page
    email_senders: int  # SMTP connections working in parallel
    email_batch: int  # deliveries claimed per transaction and connection
    email_max_attempts: int  # transient SMTP failures before a mail counts as failed
    webhook_timeout: float
    webhook_max_failures: int  # consecutive failures after which a webhook is disabled
    webhook_allow: tuple  # networks a webhook may reach although they are not public (an internal city system)
    retry_base_seconds: float  # first backoff; doubles per attempt
    retry_max_seconds: float
    digest_hour: int  # local hour (Europe/Berlin) at which daily and weekly digests go out
    confirm_hours: float  # how long a confirmation link is valid
    manage_link_days: float  # how long the unsubscribe / my-data link of a mail is valid (each mail has a new one)
    dispatch_slice_seconds: float  # one dispatch run stops claiming after this, so a stop is quick
    meeting_reminder_hours: float  # registrants are reminded this long before a meeting starts


def load(service="notifications"):
    def get(name, default):
        return service_env(service, name, default)

    security = get("SMTP_SECURITY", "none")
    if security not in SMTP_SECURITY:
        raise ValueError(f"SMARTCITY_NOTIFICATIONS_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    return NotificationSettings(
        smtp_host=get("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(get("SMTP_PORT", "1025")),
        smtp_security=security,
        smtp_user=get("SMTP_USER", None) or None,
        smtp_password=get("SMTP_PASSWORD", None) or None,
        smtp_ca_file=get("SMTP_CA_FILE", None) or None,
        smtp_timeout=float(get("SMTP_TIMEOUT_SECONDS", "10")),
        mail_from=get("MAIL_FROM", "SmartCity Beteiligung <beteiligung@smartcity.invalid>"),
        public_url=get("PUBLIC_URL", "http://127.0.0.1:8003").rstrip("/"),
        idea_pages_url=get("IDEA_PAGES_URL", "http://127.0.0.1:8004").rstrip("/"),
        email_senders=int(get("EMAIL_SENDERS", "8")),
        email_batch=int(get("EMAIL_BATCH", "100")),
        email_max_attempts=int(get("EMAIL_MAX_ATTEMPTS", "48")),
        webhook_timeout=float(get("WEBHOOK_TIMEOUT_SECONDS", "5")),
        webhook_max_failures=int(get("WEBHOOK_MAX_FAILURES", "8")),
        webhook_allow=tuple(ipaddress.ip_network(part.strip(), strict=False)
                            for part in get("WEBHOOK_ALLOW", "").split(",") if part.strip()),
        retry_base_seconds=float(get("RETRY_BASE_SECONDS", "30")),
        retry_max_seconds=float(get("RETRY_MAX_SECONDS", "3600")),
        digest_hour=int(get("DIGEST_HOUR", "7")),
        confirm_hours=float(get("CONFIRM_HOURS", "72")),
        manage_link_days=float(get("MANAGE_LINK_DAYS", "60")),
        dispatch_slice_seconds=float(get("DISPATCH_SLICE_SECONDS", "2")),
        meeting_reminder_hours=float(get("MEETING_REMINDER_HOURS", "24")),
    )
