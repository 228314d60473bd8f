"""Which database URL a management command uses: the owner's for schema work.

``manage.py`` calls ``use_owner_database`` before Django loads its settings,
so this module imports nothing from Django. See README "Deploying: two
database roles" and ``clinic/database_roles.py``.
"""

from collections.abc import MutableMapping

import dj_database_url

#: The management commands that change the schema, or grant on it, and so
#: connect as the owner when ``DATABASE_MIGRATE_URL`` is set.
OWNER_COMMANDS = frozenset({"migrate", "createcachetable", "database_roles"})


def use_owner_database(argv: list[str], environ: MutableMapping[str, str]) -> bool:
    """For an owner command, point this process's ``DATABASE_URL`` at ``DATABASE_MIGRATE_URL``.

    Called by ``manage.py`` before settings load. Only that one process sees
    the owner's URL; the web and worker processes never do. Both URLs must
    name the same database (a typo would migrate one and serve another).
    Returns whether the owner's URL is now in use.
    """
    owner_url = environ.get("DATABASE_MIGRATE_URL", "").strip()
    if not owner_url or len(argv) < 2 or argv[1] not in OWNER_COMMANDS:
        return False
    app_url = environ.get("DATABASE_URL", "").strip()
    if app_url and _database_of(app_url) != _database_of(owner_url):
        raise SystemExit(
            "DATABASE_MIGRATE_URL and DATABASE_URL name different databases "
            f"({_database_of(owner_url)} and {_database_of(app_url)}): they must differ only "
            "in the user and password."
        )
    environ["DATABASE_URL"] = owner_url
    return True


def _database_of(url: str) -> tuple:
    parsed = dj_database_url.parse(url)
    return (
        parsed["ENGINE"],
        parsed.get("HOST") or "",
        str(parsed.get("PORT") or ""),
        parsed["NAME"],
    )
