"""Django's makemessages, also extracting `msgid(...)`: the gettext_noop alias the reception
rules use for explanations stored in English and translated on display."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=msgid"]
