"""Turn a lost database connection into a calm page instead of a crash."""

import logging

from django.db import InterfaceError, OperationalError

from .views import service_unavailable

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            # The type only: database error text can quote patient data.
            logger.error("Database unavailable: %s", type(exception).__name__)
            return service_unavailable(request)
        return None
