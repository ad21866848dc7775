from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"
    verbose_name = _("Organisation and platform")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from .search import register_search_kind, user_hits

        register_search_kind("users", _("Colleagues"), user_hits, order=90, icon="people")

        from . import home_panels

        home_panels.register()
