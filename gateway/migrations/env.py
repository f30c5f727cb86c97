from gateway.adapters.tables import metadata
from yiwang.migrate import run_env

run_env(metadata, "gateway")
