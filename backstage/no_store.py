"""Pages of a signed-in person are never stored: not by the browser (whose back button
would show them again after signing out, to the next person at a shared computer), nor by
any proxy on the way."""

from django.utils.cache import patch_cache_control


class NoStoreForMembersMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in request.

    Static files are served before this (WhiteNoise) and stay cacheable; pages for nobody
    in particular (the sign-in page) keep whatever their view says.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
