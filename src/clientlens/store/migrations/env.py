"""Alembic environment: the engine comes from ``config.attributes['engine']`` (see store.db)."""

from alembic import context

from clientlens.store import auth_models, care_models, models  # noqa: F401  (register every table)

target_metadata = models.Base.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from clientlens.store.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///clientlens.db")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
