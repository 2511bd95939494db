"""Django's database sessions (SESSION_ENGINE), writing each session in fewer statements.

The rows, the cookie and every guarantee are Django's: a new key on every sign-in (and at
the password step), the old row deleted at once, a key never given twice. What changes
is how many statements that takes, the bulk of a sign-in's session handling:

- A new key's row is written once, by the save that comes with the response, instead of
  once when the key is made and again with the response: `cycle_key` forgets the key, and
  the save makes the new one (Django's `create()`) by giving the old row the new key and
  the data in one UPDATE, where Django deleted the old row and inserted the new one. So
  the old key stops working with the response that hands out the new one (a request that
  fails first leaves the old session as it was: nobody was signed in on it).
- A new key is not looked up first: its INSERT refuses a key that is taken, which
  `create()` already relies on (it tries another), and 32 random characters are not taken.
- A write is one statement, and is not wrapped in a transaction or a savepoint of its
  own: in autocommit it is a transaction already, and inside a caller's (a sign-in's) it
  is part of that one. The savepoint Django keeps there lets create() try another key
  after a refused INSERT without breaking the caller's transaction; but a key of 32
  random characters (165 bits) is never taken, and if one were, the sign-in would fail
  whole, with nothing half-written.
- A session ended (sign-out) goes with one DELETE, not a SELECT, then a DELETE in a
  transaction.
- A save that would write what the last one wrote (the same key and data) writes nothing.
  So a sign-in can save its session inside its own transaction, with the rest of what
  signing in writes (accounts.signin.signin_complete), and the save that comes with the
  response finds nothing left to do: on SQLite every transaction is a journal file
  written and synced, which costs more than the statements in it.

One guarantee is added: a request whose key names no session and that writes nothing does
not delete the session cookie, as Django's SessionMiddleware does for an empty session. Such
a request was sent with a key that another request of the same browser has since replaced
(a script of the code page while the code signs in), and by the time its answer arrives the
browser holds the new key: "delete the cookie" would delete that one, ending the new
session in the browser. A request that writes gets a new session, as in Django (the old key
is worthless either way); sign-out still deletes the cookie (flush() writes).

The reading of a session (every request with a cookie) and its two UPDATEs are Django's
queries built once per connection (core.compiled): building them took the ORM ten times what
the database took to answer. Sessions live in the default database (there is no router),
where those run.
"""

import logging
from datetime import datetime

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, IntegrityError, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from core.compiled import columns, compiled_select, compiled_update, model_from_row


def _sessions():
    return SessionStore.get_model_class().objects


# Django's _get_session_from_db(): get(session_key=..., expire_date__gt=now), one row at most.
_session_found = compiled_select(
    lambda key, now: _sessions()
    .filter(session_key=key, expire_date__gt=now)
    .values_list(*columns(SessionStore.get_model_class()))[:1],
    key=str, now=datetime,
)
# Django's save(force_update=True) of a session: its data and expiry, by its key.
_session_update = compiled_update(
    lambda key, data, expires: (
        _sessions().filter(session_key=key),
        {"session_data": data, "expire_date": expires},
    ),
    key=str, data=str, expires=datetime,
)
# The retired key's row given the new key and the data (the module's doc).
_session_rename = compiled_update(
    lambda old, key, data, expires: (
        _sessions().filter(session_key=old),
        {"session_key": key, "session_data": data, "expire_date": expires},
    ),
    old=str, key=str, data=str, expires=datetime,
)


class SessionStore(db.SessionStore):
    # The key that cycle_key() retired, whose row the next save gives the new key.
    _replaces = None
    # (key, data as JSON) of the last save, which a save of the same needn't write again.
    _saved_as = None
    # The request came with a key that no row has (load() then forgets it, as Django does).
    _key_unknown = False

    def load(self):
        data = super().load()
        self._key_unknown = self._session_key is None
        return data

    def _get_session_from_db(self):
        # Django's, with its query compiled (the module's doc).
        try:
            key = self.session_key
            row = key and _session_found.first(key=key, now=timezone.now())
        except SuspiciousOperation as e:
            logger = logging.getLogger(f"django.security.{e.__class__.__name__}")
            logger.warning(str(e))
            row = None
        if not row:
            self._session_key = None
            return None
        return model_from_row(self.model, row)

    def is_empty(self):
        # What SessionMiddleware asks before deleting the cookie (the module's doc).
        return super().is_empty() and (self.modified or not self._key_unknown)

    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self):
        data = self._session
        key = self.session_key
        # No key until the response saves the session: create() then picks one and writes
        # the row (the retired key's, renamed), with the data kept here.
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self._replaces = key

    def delete(self, session_key=None):
        if session_key is None:
            # flush(): the row of this session, or of the key that cycle_key() retired.
            session_key, self._replaces = self.session_key or self._replaces, None
            if session_key is None:
                return
        # An instance that is not read first: the ORM deletes it with one DELETE (nothing
        # depends on a session), and none where the row is gone already.
        self.model(session_key=session_key).delete()

    def save(self, must_create=False):
        # Django's save() with the atomic block only where it is needed (the module's doc).
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        # The data as JSON, not as encoded: the encoding is signed with the time, in seconds,
        # so the same data saved a second later encodes differently.
        saved_as = (self.session_key, self.serializer().dumps(data))
        if not must_create and saved_as == self._saved_as:
            return
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        try:
            if not must_create:
                # What obj.save(force_update=True) writes, and its error when no row has the
                # key; sent no pre_save or post_save, which nothing listens to for sessions.
                if not _session_update(
                    key=obj.session_key, data=obj.session_data, expires=obj.expire_date
                ):
                    raise UpdateError
            elif not (self._replaces and self._rename(obj)):
                obj.save(force_insert=True, using=using)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
        # Only once committed: a save rolled back with its transaction must be made again.
        transaction.on_commit(lambda: setattr(self, "_saved_as", saved_as), using=using)

    def _rename(self, obj) -> bool:
        """Give the row of the retired key `obj`'s key and data; False if it is gone."""
        renamed = _session_rename(
            old=self._replaces, key=obj.session_key, data=obj.session_data,
            expires=obj.expire_date,
        )
        self._replaces = None
        return bool(renamed)
