"""A request body that cannot be parsed is the client's mistake: 400, and one log line.

Django answers a MultiPartParserError (a multipart body without a boundary, say) with a 400
where it meets it, but logs it with a traceback; and where it meets it inside an error
page (a 404 for a URL that does not exist, or a view that raised Http404 before reading
the form: the error views run the CSRF check, which reads the body) the error page itself
fails, and the answer is a 500. Checking the body's headers here, before anything reads
the body, answers every such request the same way.
"""

import logging
from io import BytesIO

from django.http import HttpRequest, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext as _

logger = logging.getLogger("django.security.request_body")


class UnparsableBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                # Django's parser checks the Content-Type, boundary and length when it is
                # made, before it reads a byte; the body stays unread for the view (so that
                # organizations.sso_views can still refuse an oversized one unread).
                MultiPartParser(request.META, BytesIO(), request.upload_handlers)
            except MultiPartParserError as error:
                logger.warning("Bad request (unreadable body) to %s: %s", request.path, error)
                return HttpResponseBadRequest(
                    _("The form could not be read. Reload the page and try again."),
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
