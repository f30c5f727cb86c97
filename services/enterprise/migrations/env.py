from services.enterprise.adapters.tables import metadata
from yiwang.migrate import run_env

run_env(metadata, "enterprise")
