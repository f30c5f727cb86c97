"""The grids nameko service: a thin adapter around the service layer."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from services.grids.service_layer.boundaries import GridMap
from yiwang.contracts.grids import LocateRequest
from yiwang.contracts.health import HealthResponse
from yiwang.db import make_engine
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc
from yiwang.uow import uow_factory


class GridMapProvider(DependencyProvider):
    """Holds the in-memory grid index, loaded from the store when the service starts."""

    def setup(self) -> None:
        self.engine = make_engine(self.container.config["DATABASE_URL"], pool_size=2)
        self.factory = uow_factory(self.engine, producer="grids", schema="grids")
        self.map: GridMap | None = None

    def start(self) -> None:
        self.reload()

    def stop(self) -> None:
        self.engine.dispose()

    def reload(self) -> None:
        self.map = GridMap.load(self.factory())

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self


class GridsService:
    name = "grids"

    uow = UnitOfWorkProvider("grids")
    grid_map = GridMapProvider()
    tracing = Tracing()

    @contract_rpc("grids")
    def locate(self, request: LocateRequest) -> Any:
        assert self.grid_map.map is not None
        return self.grid_map.map.locate(request.lat, request.lon, request.crs)

    @contract_rpc("grids")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
