"""A nameko timer whose interval comes from the environment (SMARTCITY_<SERVICE>_<SETTING>)."""
from nameko.timer import Timer

from shared.config import service_env


class ConfiguredTimer(Timer):
    def __init__(self, setting, default_seconds, **kwargs):
        self.setting = setting
        super().__init__(interval=default_seconds, **kwargs)

    def setup(self):
        self.interval = float(service_env(self.container.service_name, self.setting, str(self.interval)))
        super().setup()


every = ConfiguredTimer.decorator
