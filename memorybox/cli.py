"""``flask`` commands: database migrations, the demo seed, invitations, the bin purge."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from sqlalchemy import select

from memorybox import clock
from memorybox.accounts import services as accounts
from memorybox.accounts.models import Authority, Role, User
from memorybox.children import services as children
from memorybox.children.models import Child
from memorybox.db import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

DEMO_PASSWORD = "memorybox-demo"  # noqa: S105 - printed for the local demo only


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade_database(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def init_app(app: Flask) -> None:
    @app.cli.group("db")
    def db_group() -> None:
        """Database migrations (Alembic)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Bring the database up to date."""
        url = current_app.config["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        upgrade_database(url, revision)
        click.echo("Database is up to date.")

    @app.cli.command("create-authority")
    @click.option("--name", required=True, help="For example: Demo Borough Council")
    @click.option("--slug", required=True, help="A short name, for example: demo")
    def create_authority(name: str, slug: str) -> None:
        """Add a local authority (then invite its first manager)."""
        if db.session.scalar(select(Authority).where(Authority.slug == slug)):
            raise click.ClickException(f"An authority called {slug!r} already exists.")
        db.session.add(Authority(name=name, slug=slug))
        db.session.commit()
        click.echo(f"Added {name}.")

    @app.cli.command("invite")
    @click.option("--authority", "slug", required=True, help="The authority's short name")
    @click.option("--email", required=True)
    @click.option("--name", "display_name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--child-id", type=int, default=None, help="For a young person's login")
    def invite(slug: str, email: str, display_name: str, role: str, child_id: int | None) -> None:
        """Invite someone. Prints a single-use link; only a hash of it is stored."""
        authority = db.session.scalar(select(Authority).where(Authority.slug == slug))
        if authority is None:
            raise click.ClickException(f"No authority called {slug!r}.")
        child = db.session.get(Child, child_id) if child_id else None
        try:
            issued = accounts.invite(
                authority=authority,
                email=email,
                display_name=display_name,
                role=Role(role),
                invited_by=None,
                days_valid=current_app.config["INVITATION_DAYS"],
                child=child,
            )
        except accounts.InvitationError as exc:
            raise click.ClickException(str(exc)) from exc
        base = current_app.config["BASE_URL"]
        until = f"{issued.invitation.expires_at:%d %B %Y}"
        click.echo(f"Send this link to {display_name}. It works once, until {until}:")
        click.echo(f"{base}/invite#{issued.token}")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo authority and its sample accounts (safe to run again)."""
        for line in seed_demo_data():
            click.echo(line)

    @app.cli.command("seed-scale")
    @click.option("--slug", default="scale", show_default=True, help="The authority's short name")
    @click.option("--children", type=click.IntRange(min=1), default=300, show_default=True)
    @click.option("--carers", type=click.IntRange(min=1), default=60, show_default=True)
    @click.option("--social-workers", type=click.IntRange(min=1), default=30, show_default=True)
    @click.option("--items-per-child", type=click.IntRange(min=0), default=1000, show_default=True)
    @click.option(
        "--big-box",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Items in the first child's box instead (0: the same as the others)",
    )
    @click.option("--audit-rows", type=click.IntRange(min=0), default=2_000_000, show_default=True)
    @click.option("--password", default=None, help="Every account's password (printed)")
    def seed_scale(
        slug: str,
        children: int,
        carers: int,
        social_workers: int,
        items_per_child: int,
        big_box: int,
        audit_rows: int,
        password: str | None,
    ) -> None:
        """Build a large authority for benchmarks, in bulk (safe to run again: it adds only
        what is missing). Never in production."""
        from memorybox.seeding import scale

        options = scale.ScaleOptions(
            slug=slug,
            children=children,
            carers=carers,
            social_workers=social_workers,
            items_per_child=items_per_child,
            big_box=big_box,
            audit_rows=audit_rows,
            password=password or scale.DEFAULT_PASSWORD,
        )
        try:
            report = scale.seed_scale(
                options,
                environment=current_app.config["MEMORYBOX_ENV"],
                passwords=current_app.extensions["memorybox.passwords"],
                storage=current_app.extensions["memorybox.storage"],
                say=click.echo,
            )
        except scale.SeedRefused as exc:
            raise click.ClickException(str(exc)) from None
        for line in report.lines(options):
            click.echo(line)

    @app.cli.command("reprocess-media")
    @click.argument("item_ids", nargs=-1, type=int)
    def reprocess_media(item_ids: tuple[int, ...]) -> None:
        """Queue items for processing again (every unfinished item when no ids are given)."""
        from memorybox.jobs.tasks import process_item
        from memorybox.memories import processing

        ids = processing.reset_for_reprocessing(list(item_ids) or None)
        for item_id in ids:
            process_item(item_id)
        click.echo(f"Queued {len(ids)} item(s) for processing.")

    @app.cli.command("storage-orphans")
    @click.option("--delete", is_flag=True, help="Delete them (otherwise only list them).")
    @click.option(
        "--older-than-hours",
        type=click.IntRange(min=0),
        default=24,
        show_default=True,
        help="Only objects last changed longer ago than this.",
    )
    def storage_orphans(delete: bool, older_than_hours: int) -> None:
        """List (or delete) stored objects that no item, rendition, export or upload names."""
        from datetime import timedelta

        from memorybox.memories import orphans
        from memorybox.storage import StorageError

        storage = current_app.extensions["memorybox.storage"]
        try:
            found = list(orphans.find(storage, timedelta(hours=older_than_hours)))
        except StorageError as exc:
            raise click.ClickException(f"Could not list the storage: {exc}") from None
        for orphan in found:
            click.echo(f"{orphan.key}\t{orphan.size}\t{orphan.modified.isoformat()}")
        total = sum(o.size for o in found)
        click.echo(f"{len(found)} orphan(s), {total:,} bytes.")
        if delete and found:
            deleted, kept = orphans.remove(storage, found)
            click.echo(f"Deleted {deleted}; kept {kept}.")

    @app.cli.command("purge-deleted-accounts")
    def purge_deleted_accounts() -> None:
        """Delete the accounts whose 30 days to change their mind are over, and the records
        of deleted accounts whose retention period is over (the daily job does the same)."""
        from memorybox.leaving import services as leaving

        done = leaving.run_due(current_app.extensions["memorybox.storage"])
        click.echo(f"Deleted {done.accounts} account(s); removed {done.records} old record(s).")

    @app.cli.command("reindex-search")
    @click.option("--child", "child_id", type=int, default=None, help="One child's things only")
    @click.option(
        "--missing", is_flag=True, help="Only what has no entry yet (after a bulk import)."
    )
    def reindex_search(child_id: int | None, missing: bool) -> None:
        """Write the search index again from the boxes and stories (it is kept in step as
        things change; this is for repairs, and after rows were added in bulk)."""
        from memorybox.search import index

        assert db.engine is not None
        with db.engine.connect() as connection:  # committed a batch at a time
            if missing:
                count = index.fill_missing(connection, connection.commit)
                click.echo(f"Indexed {count:,} item(s) and story part(s) that had no entry.")
            else:
                count = index.rebuild(connection, child_id, connection.commit)
                click.echo(f"The index holds {count:,} item(s) and story part(s).")

    @app.cli.command("purge-bin")
    def purge_bin() -> None:
        """Delete for ever what has been in a bin for more than 30 days."""
        from memorybox.memories import services as memories

        removed = memories.purge_expired_bin(current_app.extensions["memorybox.storage"])
        click.echo(f"Removed {removed} item(s) from bins.")


DEMO_PEOPLE = [
    ("alex@demo.example.org", "Alex", Role.YOUNG_PERSON),
    ("jo.carer@demo.example.org", "Jo (foster carer)", Role.CARER),
    ("sam.sw@demo.example.org", "Sam (social worker)", Role.SOCIAL_WORKER),
    ("priya.manager@demo.example.org", "Priya (manager)", Role.MANAGER),
]


def seed_demo_data() -> list[str]:
    """Idempotent: existing demo rows are left as they are."""
    if current_app.config.get("MEMORYBOX_ENV") == "production":
        raise click.ClickException("The demo accounts are never created in production.")
    passwords = current_app.extensions["memorybox.passwords"]
    authority = db.session.scalar(select(Authority).where(Authority.slug == "demo"))
    if authority is None:
        authority = Authority(name="Demo Borough Council", slug="demo")
        db.session.add(authority)
        db.session.flush()
    users: dict[Role, User] = {}
    for email, name, role in DEMO_PEOPLE:
        user = accounts.find_user_by_email(email)
        if user is None:
            user = User(
                authority_id=authority.id,
                email=email,
                display_name=name,
                role=role,
                password_hash=passwords.hash(DEMO_PASSWORD),
            )
            db.session.add(user)
            db.session.flush()
        users[role] = user
    child = db.session.scalar(select(Child).where(Child.user_id == users[Role.YOUNG_PERSON].id))
    if child is None:
        child = Child(
            authority_id=authority.id,
            display_name="Alex",
            date_of_birth=date(2013, 5, 14),
            user_id=users[Role.YOUNG_PERSON].id,
        )
        db.session.add(child)
        db.session.flush()
    db.session.commit()
    today = clock.today()
    if not children.placements_of(child):
        children.place(child, users[Role.CARER], today.replace(day=1), None, users[Role.MANAGER])
    if not children.allocations_of(child):
        children.allocate(
            child, users[Role.SOCIAL_WORKER], today.replace(day=1), None, users[Role.MANAGER]
        )
    lines = ["Demo authority ready. Sign in at the address below with any of these:", ""]
    for email, name, role in DEMO_PEOPLE:
        lines.append(f"  {role.label:<14} {name:<22} {email:<36} password: {DEMO_PASSWORD}")
    lines += [
        "",
        "The social worker and the manager also use a second step: the first time they sign",
        "in, they set up an authenticator app from the QR code or key the page shows, and",
        "keep their recovery codes. README.md says how to get a code without a phone.",
    ]
    return lines
