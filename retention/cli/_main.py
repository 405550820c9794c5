"""The ``parklife`` entry point: language, parser, dispatch and error reporting.

argparse writes its own headings and errors in English; here the headings come from the ``cli``
catalogue and the errors argparse raises for malformed arguments are translated (the common ones
by pattern, the rest shown after a translated lead-in), so a Chinese user reads Chinese.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import getpass
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

from retention import __version__
from retention.cli._command import CliError, Command, Context, ExitCode, discover_commands
from retention.cli._output import wrap
from retention.errors import (
    AccessDeniedError,
    AuthenticationError,
    ParameterError,
    ParkLifeError,
    UnknownParkError,
    ValidationError,
)
from retention.i18n import LANGUAGES, language_for_locale, t

if TYPE_CHECKING:
    from retention.auth.roles import UserScope

PROG = "parklife"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
"""Checked in this order (POSIX precedence) for the default language."""


def default_language(environ: Mapping[str, str]) -> str:
    """Return ``"zh"`` or ``"en"`` from the first locale variable that is set (else ``"en"``)."""
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return language_for_locale(value.split(".")[0])
    return "en"


def _language_from_argv(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """Return the ``--lang`` given anywhere in ``argv`` (if valid), else the locale's language."""
    for position, arg in enumerate(argv):
        value = None
        if arg == "--lang" and position + 1 < len(argv):
            value = argv[position + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in LANGUAGES:
            return value
    return default_language(environ)


class _Exit(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised instead of ``sys.exit`` so that :func:`main` returns a code (testable in-process)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, *, usage_prefix: str) -> None:
        super().__init__(prog, max_help_position=30)
        self._usage_prefix = usage_prefix

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        # argparse passes prefix="" when it builds a sub-command's prog: keep that.
        super().add_usage(usage, actions, groups, self._usage_prefix if prefix is None else prefix)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # Paragraphs are wrapped; lines that start with a space (the exit-code table) are kept.
        lines = []
        for line in text.splitlines():
            lines += [line] if line.startswith(" ") else wrap(line, width - len(indent))
        return "\n".join(indent + line for line in lines)


class _Parser(argparse.ArgumentParser):
    """An argparse parser that speaks ``lang``, writes to given streams and never exits."""

    def __init__(self, *, lang: str, out: TextIO, err: TextIO, **kwargs: Any) -> None:
        kwargs.setdefault(
            "formatter_class",
            functools.partial(_Formatter, usage_prefix=t("cli.usage_prefix", lang)),
        )
        kwargs["add_help"] = False  # our own -h, with translated help
        super().__init__(**kwargs)
        self.lang = lang
        self.out = out
        self.err = err
        self._positionals.title = t("cli.positionals", lang)
        self._optionals.title = t("cli.options", lang)
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help=t("cli.help", lang)
        )

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self.err if file is sys.stderr else self.out).write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self.err.write(message)
        raise _Exit(status)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self.err)
        self.err.write(f"{self.prog}: {translate_argparse_error(message, self.lang)}\n")
        self.err.write(t("cli.see_help", self.lang, prog=self.prog) + "\n")
        raise _Exit(ExitCode.USAGE)


# argparse's messages (Python 3.11) -> catalogue keys; the groups become the placeholders.
_ARGPARSE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^the following arguments are required: (?P<names>.+)$"), "cli.error.required"),
    (re.compile(r"^unrecognized arguments: (?P<names>.+)$"), "cli.error.unrecognized"),
    (
        re.compile(
            r"^argument (?P<name>\S+): invalid choice: (?P<value>.+?) "
            r"\(choose from (?P<choices>.*)\)$"
        ),
        "cli.error.invalid_choice",
    ),
    (re.compile(r"^argument (?P<name>\S+): expected one argument$"), "cli.error.expects_value"),
    (
        re.compile(r"^argument (?P<name>\S+): invalid \S+ value: (?P<value>.+)$"),
        "cli.error.invalid_value",
    ),
)


def translate_argparse_error(message: str, lang: str) -> str:
    """Return argparse's error ``message`` in ``lang`` (known patterns), else with a lead-in."""
    for pattern, key in _ARGPARSE_MESSAGES:
        match = pattern.match(message)
        if match:
            return t(key, lang, **match.groupdict())
    return t("cli.error.arguments", lang, message=message)


def _common_options(lang: str, *, suppress_defaults: bool) -> argparse.ArgumentParser:
    """Options every sub-command accepts too, so ``parklife score --lang zh`` works."""
    default: Any = argparse.SUPPRESS if suppress_defaults else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lang", choices=LANGUAGES, default=default, help=t("cli.option.lang", lang)
    )
    common.add_argument(
        "--data-dir", type=Path, default=default, metavar="DIR", help=t("cli.option.data_dir", lang)
    )
    common.add_argument(
        "--user", default=default, metavar="NAME", help=t("cli_auth.option.user", lang)
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS if suppress_defaults else False,
        help=t("cli.option.quiet", lang),
    )
    return common


def _exit_codes_epilog(lang: str) -> str:
    lines = [t("cli.exit_codes", lang)]
    lines += [f"  {code.value:>3}  {t(f'cli.exit.{code.name.lower()}', lang)}" for code in ExitCode]
    return "\n".join(lines)


def build_parser(
    lang: str, commands: Sequence[Command], *, out: TextIO, err: TextIO
) -> argparse.ArgumentParser:
    """Return the ``parklife`` parser with one sub-parser per command, texts in ``lang``."""
    parser = _Parser(
        prog=PROG,
        description=t("cli.description", lang),
        epilog=_exit_codes_epilog(lang),
        parents=[_common_options(lang, suppress_defaults=False)],
        lang=lang,
        out=out,
        err=err,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__}",
        help=t("cli.option.version", lang),
    )
    subparsers = parser.add_subparsers(
        title=t("cli.commands", lang), dest="command", metavar="COMMAND", required=True
    )
    common = _common_options(lang, suppress_defaults=True)
    for command in commands:
        sub = subparsers.add_parser(
            command.name,
            help=t(command.help_key, lang),
            description=t(command.description_key, lang),
            epilog=_exit_codes_epilog(lang),
            parents=[cast(_Parser, common)],  # typeshed wants the sub-parser class; any works
            lang=lang,
            out=out,
            err=err,
        )
        command.configure(sub, lang)
        sub.set_defaults(_command=command)
    return parser


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir is not None:
        return Path(args.data_dir)
    from retention.storage.layout import default_data_dir

    return default_data_dir()


def _user(args: argparse.Namespace, context: Context, environ: Mapping[str, str]) -> UserScope:
    """Return who the call acts as (``retention.auth.deployment``), or raise a ``DENIED`` error."""
    from retention.auth import deployment
    from retention.errors import AuthenticationError

    lang = context.lang
    name = args.user or environ.get(deployment.USER_ENV) or None
    password = environ.get(deployment.PASSWORD_ENV)
    if name and password is None and not deployment.local_mode(environ):
        if not sys.stdin.isatty():
            raise CliError(t("cli_auth.no_password", lang, user=name), code=ExitCode.DENIED)
        password = getpass.getpass(t("cli_auth.prompt", lang, user=name))
    try:
        return deployment.command_line_user(
            context.data_dir, name=name, password=password, environ=environ
        )
    except deployment.SignInRequiredError:
        raise CliError(t("cli_auth.required", lang), code=ExitCode.DENIED) from None
    except AuthenticationError:
        raise CliError(t("cli_auth.failed", lang), code=ExitCode.DENIED) from None


def _check_permission(command: Command, context: Context) -> None:
    user = context.scope
    if command.permission is not None and not user.can(command.permission):
        raise CliError(
            t("cli_auth.denied", context.lang, user=user.user, role=user.role.value),
            code=ExitCode.DENIED,
            detail=f"{command.name} needs the right {command.permission.value!r}",
        )


def _report(error: CliError, err: TextIO, lang: str) -> int:
    err.write(f"{PROG}: {t('cli.error_prefix', lang)}{error.message}\n")
    if error.detail:
        err.write(f"  {error.detail}\n")
    return int(error.code)


def as_cli_error(error: ParkLifeError, lang: str) -> CliError:
    """Return a ParkLife error a sub-command did not handle as a :class:`CliError`."""
    if isinstance(error, CliError):
        return error
    if isinstance(error, AccessDeniedError | AuthenticationError):
        return CliError(t("cli.exit.denied", lang), code=ExitCode.DENIED, detail=str(error))
    if isinstance(error, UnknownParkError):
        return CliError(t("cli.error.park", lang), code=ExitCode.UNKNOWN_PARK, detail=str(error))
    if isinstance(error, ParameterError):
        return CliError(t("cli.error.parameters", lang), code=ExitCode.DATA, detail=str(error))
    if isinstance(error, ValidationError):
        return CliError(t("cli.error.data", lang), code=ExitCode.DATA, detail=str(error))
    return CliError(t("cli.error.failed", lang), code=ExitCode.DATA, detail=str(error))


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``parklife`` with ``argv`` and return its exit code.

    Parameters
    ----------
    argv
        The arguments after the program name (default ``sys.argv[1:]``).
    stdout, stderr
        Streams for results and messages (default the process's).
    environ
        Environment for the default language and for who the call acts as
        (``PARKLIFE_AUTH``, ``PARKLIFE_USER``, ``PARKLIFE_PASSWORD``; default ``os.environ``).

    Returns
    -------
    int
        An :class:`ExitCode` value.
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    env = os.environ if environ is None else environ
    lang = _language_from_argv(args_in, env)
    parser = build_parser(lang, discover_commands(), out=out, err=err)
    try:
        args = parser.parse_args(args_in)
    except _Exit as stop:
        return stop.code
    lang = args.lang or lang
    context = Context(
        lang=lang,
        data_dir=_data_dir(args),
        stdout=out,
        stderr=err,
        show_progress=not args.quiet and err.isatty(),
    )
    try:
        context = dataclasses.replace(context, user=_user(args, context, env))
        _check_permission(args._command, context)
        return int(args._command.run(args, context))
    except ParkLifeError as error:
        return _report(as_cli_error(error, lang), err, lang)
    except KeyboardInterrupt:
        err.write(f"\n{PROG}: {t('cli.interrupted', lang)}\n")
        return int(ExitCode.INTERRUPTED)
