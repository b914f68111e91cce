"""The simulator's state: settings, the store, the catalog, the scheduler, the fault switch."""

import asyncio
import logging

from ollama_sim.backends.base import Backend
from ollama_sim.backends.scripted import ScriptedBackend
from ollama_sim.catalog import ensure_catalog
from ollama_sim.faults import FaultSwitch
from ollama_sim.model_facts import ModelFacts
from ollama_sim.names import InvalidModelName, ModelName
from ollama_sim.pull import pull
from ollama_sim.responses import ApiError
from ollama_sim.scheduler import Scheduler
from ollama_sim.settings import Settings, SettingsError
from ollama_sim.store import Store

log = logging.getLogger("ollama_sim")


def make_backend(settings: Settings) -> Backend:
    if settings.backend == "llama":
        try:
            from ollama_sim.backends.llama import LlamaBackend
        except ImportError as error:
            raise SettingsError(
                f"OLLAMA_SIM_BACKEND=llama needs llama-cpp-python (the `llama` extra): {error}"
            ) from None
        return LlamaBackend(settings.llama_threads)
    return ScriptedBackend(settings.profile)


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.models_dir)
        self.store.ensure()
        self.backend = make_backend(settings)
        self.scheduler = Scheduler(self.backend, settings.num_parallel, settings.max_queue)
        self.faults = FaultSwitch(settings.fault)
        self._catalog: Store | None = None
        self._catalog_lock = asyncio.Lock()

    async def catalog(self) -> Store:
        async with self._catalog_lock:
            if self._catalog is None:
                self._catalog = await asyncio.to_thread(ensure_catalog, self.settings.catalog_dir)
            return self._catalog

    def find(self, name: ModelName) -> ModelFacts | None:
        model = self.store.get(name)
        return None if model is None else ModelFacts(self.store, model)

    async def preload(self) -> None:
        """Pull the --preload models that are not in the store yet."""
        catalog = await self.catalog()
        for text in self.settings.preload:
            try:
                name = ModelName.parse(text)
            except InvalidModelName:
                raise SettingsError(f"OLLAMA_SIM_PRELOAD: invalid model name {text!r}") from None
            if self.store.get(name) is not None:
                continue
            log.info("preload: pulling %s", name.display)
            try:
                async for _progress in pull(catalog, self.store, name):
                    pass
            except ApiError as error:
                raise SettingsError(f"OLLAMA_SIM_PRELOAD: {text}: {error.message}") from None
            log.info("preload: %s ready", name.display)
