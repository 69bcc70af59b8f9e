"""The settings contract: fail fast with one message, `*_FILE` secrets, deploy checks."""

import json
import subprocess

import pytest
import redis
from django.core.management import call_command

from desideliver.settings.environment import Config
from tests import servers
from tests.service import TEST_SECRET_KEY, desideliver_command, production_environment

REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "STATIC_ROOT")


def run(*arguments, environment):
    return subprocess.run(desideliver_command(*arguments), env=environment, capture_output=True, text=True, timeout=60)


def production(**overrides):
    return production_environment("postgres://app@127.0.0.1:1/app", "redis://127.0.0.1:1/0", **overrides)


def test_production_lists_every_missing_variable_in_one_message():
    environment = {k: v for k, v in production().items() if k not in REQUIRED}
    result = run("manage", "check", environment=environment)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "5 problems" in result.stderr
    for name in REQUIRED:
        assert f"  - {name}: required: set {name} or {name}_FILE" in result.stderr


def test_production_names_each_invalid_value():
    result = run(
        "serve",
        environment=production(
            DATABASE_URL="mysql://app@db/app",
            SECRET_KEY="short",
            WEB_CONCURRENCY="lots",
            LOG_LEVEL="LOUD",
            SECURE_SSL_REDIRECT="maybe",
        ),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for name in ("DATABASE_URL", "SECRET_KEY", "WEB_CONCURRENCY", "LOG_LEVEL", "SECURE_SSL_REDIRECT"):
        assert f"  - {name}: " in result.stderr
    assert "mysql" in result.stderr


def test_passwords_in_urls_are_not_printed():
    result = run("manage", "check", environment=production(DATABASE_URL="mysql://app:hunter2@db/app"))
    assert result.returncode == 2
    assert "hunter2" not in result.stderr


def test_deploy_checks_pass_under_production_defaults():
    environment = production()
    for switch in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES"):
        del environment[switch]  # the secure defaults, as behind a TLS proxy
    result = run("manage", "check", "--deploy", "--fail-level", "WARNING", environment=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secrets_come_from_files_with_the_newline_stripped(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(TEST_SECRET_KEY + "\n")
    password = tmp_path / "db_password"
    password.write_text("s3cret\n")
    environment = production(SECRET_KEY_FILE=str(secret), DATABASE_PASSWORD_FILE=str(password))
    del environment["SECRET_KEY"]
    script = (
        "from django.conf import settings as s; print(repr(s.SECRET_KEY), repr(s.DATABASES['default']['PASSWORD']))"
    )
    result = run("manage", "shell", "-c", script, environment=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"{TEST_SECRET_KEY!r} 's3cret'"


def test_setting_both_a_variable_and_its_file_is_an_error(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(TEST_SECRET_KEY)
    result = run("manage", "check", environment=production(SECRET_KEY_FILE=str(secret)))
    assert result.returncode == 2
    assert "SECRET_KEY: both SECRET_KEY and SECRET_KEY_FILE are set" in result.stderr


def test_without_a_settings_module_the_cli_refuses_instead_of_running_local_settings():
    environment = production()
    del environment["DJANGO_SETTINGS_MODULE"]
    for command in (["manage", "check"], ["serve"], ["wait-for-db", "--timeout", "1"]):
        result = run(*command, environment=environment)
        assert result.returncode == 2, (command, result.stderr)
        assert "DJANGO_SETTINGS_MODULE is not set" in result.stderr


def test_an_unreadable_secret_file_is_named():
    environment = production(SECRET_KEY_FILE="/nonexistent/secret")
    del environment["SECRET_KEY"]
    result = run("manage", "check", environment=environment)
    assert result.returncode == 2
    assert "SECRET_KEY: SECRET_KEY_FILE=/nonexistent/secret cannot be read" in result.stderr


@pytest.fixture
def redis_password(tmp_path):
    """REDIS_PASSWORD_FILE holding `p@ss/word:[x]`, for the settings' own reader."""
    from desideliver.settings import base

    password = tmp_path / "redis_password"
    password.write_text("p@ss/word:[x]\n")
    original, base.config = base.config, Config({"REDIS_PASSWORD_FILE": str(password)})
    yield base.redis_location
    base.config = original


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://redis:6379/0", {"host": "redis", "port": 6379, "db": 0}),
        ("redis://[::1]:6379/1", {"host": "::1", "port": 6379, "db": 1}),
        ("redis://[fd00::7]/2", {"host": "fd00::7", "db": 2}),
        ("rediss://cache@redis.internal:6380/0", {"host": "redis.internal", "port": 6380, "username": "cache"}),
        ("unix:///run/redis/redis.sock?db=3", {"path": "/run/redis/redis.sock", "db": 3}),
    ],
)
def test_redis_password_goes_into_the_url(redis_password, url, expected):
    parsed = redis.connection.parse_url(redis_password(url))
    assert parsed["password"] == "p@ss/word:[x]"
    assert {name: parsed.get(name) for name in expected} == expected


def test_redis_password_reaches_a_real_redis_over_a_unix_socket(redis_password, tmp_path):
    server = servers.redis(tmp_path, password="p@ss/word:[x]")
    with server:
        assert redis.Redis.from_url(redis_password(f"unix://{server.unixsocket}"), socket_timeout=5).ping()


@pytest.mark.django_db
def test_system_checks_and_migrations_are_complete():
    call_command("check", fail_level="WARNING")
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


def test_openapi_schema_is_valid_and_describes_every_endpoint(tmp_path):
    output = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(output))
    schema = output.read_text()
    for path in (
        "/api/auth/register/",
        "/api/auth/login/",
        "/api/auth/token/refresh/",
        "/api/products/",
        "/api/products/{id}/",
        "/api/cart/",
        "/api/cart/add/",
        "/api/cart/update/{item_id}/",
        "/api/cart/remove/{item_id}/",
        "/api/orders/",
        "/api/orders/create/",
        "/api/orders/{id}/",
        "/api/orders/export.csv",
    ):
        assert f"  {path}:" in schema, path


def test_production_without_a_mail_server_logs_one_line_and_no_message_content():
    """consolemail:// (the local default) would print the customer's address and order lines."""
    send = (
        "from django.core.mail import send_mail;"
        "print('sent', send_mail('DesiDeliver order 7 confirmed', 'Thank you.\\n  2 x Toor Dal',"
        " 'shop@example.com', ['asha.customer@example.com']))"
    )
    result = run("manage", "shell", "-c", send, environment=production(LOG_FORMAT="json"))
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "asha.customer@example.com" not in output
    assert "Toor Dal" not in output
    assert "sent 0" in result.stdout
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    dropped = [line for line in lines if line["logger"] == "desideliver.mail"]
    assert len(dropped) == 1, output
    assert "email not sent" in dropped[0]["message"]
    assert "1 recipient" in dropped[0]["message"]


def test_production_refuses_the_console_mail_backend():
    result = run("manage", "check", environment=production(EMAIL_URL="consolemail://"))
    assert result.returncode == 2
    assert "  - EMAIL_URL: consolemail:// would print" in result.stderr


def test_production_sends_through_an_smtp_url():
    result = run(
        "manage", "shell", "-c", "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_HOST)",
        environment=production(EMAIL_URL="smtp+tls://mailer@mail.example.com:587"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "django.core.mail.backends.smtp.EmailBackend mail.example.com" in result.stdout
