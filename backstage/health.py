"""/healthz: whether this app server and its database answer, for a load balancer or a
process supervisor to probe every few seconds.

A middleware at the top of MIDDLEWARE answers it before any other runs, so a probe loads
no session (no row read, no cookie set), needs no sign-in or CSRF token, and is not
redirected to HTTPS: probes talk to the app server directly, over plain HTTP. The Host
header is still checked against ALLOWED_HOSTS, as for every page.
"""

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse

HEALTH_PATH = "/healthz"

logger = logging.getLogger(__name__)


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Health check: the database does not answer (%s)", error)
        return False
    return True


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != HEALTH_PATH:
            return self.get_response(request)
        request.get_host()  # DisallowedHost, answered 400, for a host not in ALLOWED_HOSTS
        if database_answers():
            response = HttpResponse("ok\n", content_type="text/plain")
        else:
            response = HttpResponse("database unavailable\n", content_type="text/plain", status=503)
        response["Cache-Control"] = "no-store"
        return response
