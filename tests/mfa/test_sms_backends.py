"""The local SMS backends: console, filebased and locmem (twilio: test_twilio.py)."""

import io

import pytest

from mfa import sms
from mfa.sms import SmsMessage, get_backend
from mfa.sms.base import BaseSmsBackend

MESSAGE = SmsMessage(
    to="+41791234567", body="Your Backstage code is 123456.\n\n@example.com #123456"
)


def test_get_backend_loads_the_class_named_by_the_setting(settings):
    settings.SMS_BACKEND = "mfa.sms.console.SmsBackend"

    backend = get_backend()

    assert type(backend).__module__ == "mfa.sms.console"
    assert isinstance(backend, BaseSmsBackend)


def test_base_backend_cannot_send():
    with pytest.raises(NotImplementedError):
        BaseSmsBackend().send(MESSAGE)


def test_console_prints_recipient_and_text(settings, capsys):
    settings.SMS_BACKEND = "mfa.sms.console.SmsBackend"

    get_backend().send(MESSAGE)

    printed = capsys.readouterr().out
    assert "To: +41791234567" in printed
    assert "Your Backstage code is 123456.\n\n@example.com #123456" in printed


def test_console_writes_to_the_stream_it_is_given():
    stream = io.StringIO()

    get_backend("mfa.sms.console.SmsBackend", stream=stream).send(MESSAGE)

    assert "+41791234567" in stream.getvalue()


def test_filebased_writes_one_file_per_message_with_recipient_and_whole_text(settings, tmp_path):
    settings.SMS_BACKEND = "mfa.sms.filebased.SmsBackend"
    settings.SMS_FILE_PATH = tmp_path / "outbox" / "sms"  # Not there yet: created on send.

    names = [get_backend().send(MESSAGE) for _ in range(3)]
    other = get_backend().send(SmsMessage(to="+41791234500", body="Your Backstage code is 654321."))

    files = sorted((tmp_path / "outbox" / "sms").iterdir())
    assert [file.name for file in files] == [*names, other]  # Unique, and in sending order.
    text = files[0].read_text(encoding="utf-8")
    assert text.startswith("To: +41791234567\nDate: ")
    assert text.endswith("\n\nYour Backstage code is 123456.\n\n@example.com #123456\n")
    assert "To: +41791234500\n" in files[-1].read_text(encoding="utf-8")


def test_locmem_appends_to_the_outbox(settings):
    settings.SMS_BACKEND = "mfa.sms.locmem.SmsBackend"

    provider_id = get_backend().send(MESSAGE)
    get_backend().send(SmsMessage(to="+41791234500", body="second"))

    assert provider_id == ""
    assert sms.outbox == [MESSAGE, SmsMessage(to="+41791234500", body="second")]


def test_locmem_keeps_filling_the_outbox_a_test_emptied(settings):
    settings.SMS_BACKEND = "mfa.sms.locmem.SmsBackend"
    outbox = sms.outbox
    get_backend().send(MESSAGE)

    sms.outbox.clear()
    get_backend().send(MESSAGE)

    assert sms.outbox is outbox
    assert sms.outbox == [MESSAGE]
