"""Deactivating an account ends it everywhere, however it is done (Django admin's change
form, the shell, a command): its sessions end and its remembered browsers are forgotten,
so that a reactivated account signs in afresh, with its password and a code, instead of
getting its old sessions back.

Model signals, because `is_active` is a plain field that Django admin's form saves with
the rest: no service stands in that path. A queryset `.update(is_active=False)` passes
them by; nothing in this code base deactivates that way.
"""

from accounts.services import user_sessions_end
from mfa.trust import remembered_browsers_forget


def user_active_before_save(sender, instance, update_fields=None, **kwargs) -> None:
    """pre_save receiver: note whether the stored account was active (one query, and none
    when `is_active` is not among the fields saved)."""
    if instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        instance._was_active = False
        return
    instance._was_active = bool(
        sender._default_manager.filter(pk=instance.pk, is_active=True).exists()
    )


def user_deactivated_after_save(sender, instance, created, **kwargs) -> None:
    """post_save receiver: an account that was active and no longer is ends everywhere."""
    if instance.__dict__.pop("_was_active", False) and not instance.is_active:
        forgotten = remembered_browsers_forget(user=instance)
        user_sessions_end(
            user=instance, reason="deactivated", browsers_forgotten=forgotten
        )
