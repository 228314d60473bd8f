#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    from django.core.management import execute_from_command_line

    from clinic.database_urls import use_owner_database

    # migrate, createcachetable and database_roles connect as the owner role
    # when DATABASE_MIGRATE_URL is set (README "Deploying"); all else as DATABASE_URL.
    use_owner_database(sys.argv, os.environ)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
