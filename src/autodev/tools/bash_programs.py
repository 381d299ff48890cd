"""The options each default Bash program may be given (allow-lists), and which of them name files.

Reviewed against GNU coreutils 9, grep 3, diffutils 3, findutils 4.9, ripgrep 14 and ruff 0.x. An
option not listed here is refused, so a program's next release cannot add a way out unnoticed. What
is refused on purpose, and why:

- options that read a list of file names from a file (`--files0-from`, find `-files0-from`): the
  names inside it would never be checked, so `sort --files0-from=LIST` printed any file on the disk;
- options that write files or run programs (`sort -o/-T/--compress-program`, `diff -l` (runs `pr`),
  `ruff --fix/--watch/--output-file/--cache-dir`, rg `--pre/--pre-glob/--search-zip/--hostname-bin`,
  find `-exec*/-ok*/-delete/-fprint*/-fls`);
- options that follow symlinks out of the worktree (`-L`, `--dereference`, `-R`, `--follow`, diff `-r`);
- sort `--random-source` (reads a file that is never checked);
- ruff `@FILE` argument files and inline `--config KEY=VALUE` settings (a setting may name any path).

Option values that name files (`grep -f`, `diff --from-file`, `rg --ignore-file`, `ruff --config`,
...) are resolved through the `Workspace` like operands, glued (`-fLIST`) or not.
"""

from __future__ import annotations

from autodev.tools.bash_options import Options, words

HELP = "help version"
FOLLOWS = "it follows symlinks out of the worktree"
RUNS_PR = "it runs a program (pr)"
FILE_LIST = "it reads file names from a file, which are never checked against the worktree"

CAT = Options(
    flags="AbeEnstTuv",
    long_flags=words(f"show-all number-nonblank show-ends number squeeze-blank show-tabs show-nonprinting {HELP}"),
)
CUT = Options(
    flags="nsz",
    values="bcdf",
    long_flags=words(f"complement only-delimited zero-terminated {HELP}"),
    long_values=words("bytes characters delimiter fields output-delimiter"),
)
HEAD = Options(
    flags="qvz",
    values="cn",
    long_flags=words(f"quiet silent verbose zero-terminated {HELP}"),
    long_values=words("bytes lines"),
    numbers=True,
)
TAIL = Options(  # -f never ends by itself: the timeout kills it
    flags="fFqvz",
    values="cns",
    long_flags=words(f"quiet silent verbose zero-terminated retry {HELP}"),
    long_values=words("bytes lines sleep-interval max-unchanged-stats pid"),
    long_optional=words("follow"),
    numbers=True,
)
WC = Options(
    flags="cmlLw",
    long_flags=words(f"bytes chars lines max-line-length words {HELP}"),
    long_values=words("total"),
    refused={"--files0-from": FILE_LIST},
)
STAT = Options(
    flags="Lft",
    values="c",
    long_flags=words(f"dereference file-system terse {HELP}"),
    long_values=words("format printf cached"),
)
SORT = Options(
    flags="bdfgiMhnRrVcCmsuz",
    values="ktS",
    long_flags=words(
        "ignore-leading-blanks dictionary-order ignore-case general-numeric-sort ignore-nonprinting month-sort "
        "human-numeric-sort numeric-sort random-sort reverse version-sort merge stable unique zero-terminated "
        f"debug {HELP}"
    ),
    long_values=words("key field-separator buffer-size parallel batch-size sort"),
    long_optional=words("check"),
    refused={
        "-o": "it writes files",
        "--output": "it writes files",
        "-T": "it writes files",
        "--temporary-directory": "it writes files",
        "--compress-program": "it runs programs",
        "--files0-from": FILE_LIST,
        "--random-source": "it reads a file that is never checked against the worktree",
    },
)
UNIQ = Options(
    flags="cdDiuz",
    values="fsw",
    long_flags=words(f"count repeated unique ignore-case zero-terminated {HELP}"),
    long_values=words("skip-fields skip-chars check-chars"),
    long_optional=words("all-repeated group"),
)
LS = Options(
    flags="aAbBcCdDfFgGhHiklmnNopqQrRsStuUvxXZ1",
    values="ITw",
    long_flags=words(
        "all almost-all author escape ignore-backups directory dired file-type full-time group-directories-first "
        "no-group human-readable si dereference-command-line dereference-command-line-symlink-to-dir inode "
        "kibibytes literal numeric-uid-gid hide-control-chars show-control-chars quote-name reverse recursive size "
        f"context zero {HELP}"
    ),
    long_values=words("block-size format hide ignore indicator-style quoting-style sort time time-style tabsize width"),
    long_optional=words("color classify hyperlink"),
    refused={"-L": FOLLOWS, "--dereference": FOLLOWS},
)
DIFF = Options(
    flags="abBcdeEfinNpPqstTuvwyZ",
    values="CUDFIWxS",
    paths="X",
    long_flags=words(
        "normal brief report-identical-files ed rcs side-by-side left-column suppress-common-lines show-c-function "
        "expand-tabs initial-tab suppress-blank-empty new-file unidirectional-new-file ignore-case "
        "ignore-tab-expansion ignore-trailing-space ignore-space-change ignore-all-space ignore-blank-lines text "
        "strip-trailing-cr minimal speed-large-files ignore-file-name-case no-ignore-file-name-case "
        f"no-dereference {HELP}"
    ),
    long_values=words(
        "width show-function-line label tabsize ignore-matching-lines ifdef old-group-format new-group-format "
        "unchanged-group-format changed-group-format line-format old-line-format new-line-format "
        "unchanged-line-format horizon-lines palette exclude starting-file"
    ),
    long_optional=words("context unified color"),
    long_paths=words("from-file to-file exclude-from"),
    refused={"-r": FOLLOWS, "--recursive": FOLLOWS, "-l": RUNS_PR, "--paginate": RUNS_PR},
)
GREP = Options(
    flags="EFGPiyvwxcLloqsbHhnTZzraIUV",
    values="emABCdD",
    paths="f",
    long_flags=words(
        "extended-regexp fixed-strings basic-regexp perl-regexp ignore-case no-ignore-case word-regexp line-regexp "
        "null-data no-messages invert-match byte-offset line-number no-line-number line-buffered with-filename "
        "no-filename only-matching quiet silent text recursive files-without-match files-with-matches count "
        f"initial-tab null no-group-separator binary {HELP}"
    ),
    long_values=words(
        "regexp max-count label binary-files directories devices include exclude exclude-dir before-context "
        "after-context context group-separator"
    ),
    long_optional=words("color colour"),
    long_paths=words("file exclude-from"),
    refused={"-R": FOLLOWS, "--dereference-recursive": FOLLOWS},
    numbers=True,
)
RG = Options(
    flags="abcFHhIilNnoPpqSsUuvVwx0.",
    values="ABCdEegjMmrtT",
    paths="f",
    long_flags=words(
        "binary no-binary block-buffered no-block-buffered byte-offset no-byte-offset case-sensitive column "
        "no-column count count-matches crlf no-crlf debug trace files files-with-matches files-without-match "
        "fixed-strings no-fixed-strings glob-case-insensitive no-glob-case-insensitive heading no-heading hidden "
        "no-hidden ignore no-ignore ignore-case ignore-file-case-insensitive no-ignore-file-case-insensitive "
        "include-zero no-include-zero invert-match no-invert-match json no-json line-buffered no-line-buffered "
        "line-number no-line-number line-regexp max-columns-preview no-max-columns-preview mmap no-mmap multiline "
        "no-multiline multiline-dotall no-multiline-dotall no-config no-ignore-dot no-ignore-exclude "
        "no-ignore-files no-ignore-global no-ignore-messages no-ignore-parent no-ignore-vcs no-messages "
        "no-require-git no-unicode null null-data one-file-system no-one-file-system only-matching passthru "
        "pcre2 no-pcre2 no-pcre2-unicode pretty quiet no-context-separator smart-case sort-files stats no-stats "
        "text no-text trim no-trim type-list unrestricted vimgrep with-filename no-filename word-regexp "
        f"auto-hybrid-regex no-auto-hybrid-regex no-follow no-search-zip unicode pcre2-version {HELP}"
    ),
    long_values=words(
        "after-context before-context context color colors context-separator dfa-size-limit encoding engine "
        "field-context-separator field-match-separator glob iglob hyperlink-format max-columns max-count max-depth "
        "max-filesize path-separator regex-size-limit regexp replace sort sortr threads type type-not type-add "
        "type-clear"
    ),
    long_paths=words("file ignore-file"),
    refused={
        "-L": FOLLOWS,
        "--follow": FOLLOWS,
        "--pre": "it runs programs",
        "--pre-glob": "it runs programs",
        "-z": "it runs decompression programs",
        "--search-zip": "it runs decompression programs",
        "--hostname-bin": "it runs programs",
    },
    numbers=True,
    abbreviations=False,
)

# ruff (clap: no abbreviations). `--config` takes a file (resolved) or inline TOML (refused).
_RUFF_COMMON = "help verbose quiet silent isolated"
_RUFF_WRITES = "it rewrites files, writes files or never ends"
RUFF_REFUSED = {
    name: _RUFF_WRITES
    for name in ("--fix", "--fix-only", "--add-noqa", "--add-ignore", "--watch", "-w", "--output-file", "-o")
} | {"--cache-dir": "it writes files"}
_RUFF_SHORT_FLAGS = "hvqsn"
RUFF_CHECK = Options(
    flags=_RUFF_SHORT_FLAGS + "e",
    long_flags=words(
        f"{_RUFF_COMMON} unsafe-fixes no-unsafe-fixes show-fixes no-show-fixes diff no-fix no-fix-only ignore-noqa "
        "preview no-preview statistics show-files show-settings respect-gitignore no-respect-gitignore "
        "force-exclude no-force-exclude no-cache exit-zero exit-non-zero-on-fix"
    ),
    long_values=words(
        "output-format target-version extension select ignore extend-select per-file-ignores "
        "extend-per-file-ignores fixable unfixable extend-fixable exclude extend-exclude stdin-filename color "
        "line-length dummy-variable-rgx"
    ),
    long_paths=words("config"),
    refused=RUFF_REFUSED,
    abbreviations=False,
)
RUFF_FORMAT = Options(
    flags=_RUFF_SHORT_FLAGS,
    long_flags=words(
        f"{_RUFF_COMMON} check diff preview no-preview no-cache exit-non-zero-on-format respect-gitignore "
        "no-respect-gitignore force-exclude no-force-exclude"
    ),
    long_values=words(
        "extension target-version output-format stdin-filename exclude extend-exclude line-length range color"
    ),
    long_paths=words("config"),
    refused=RUFF_REFUSED,
    abbreviations=False,
)
RUFF_OTHER = Options(  # rule, linter, config, version, help
    flags=_RUFF_SHORT_FLAGS,
    long_flags=words(f"{_RUFF_COMMON} all"),
    long_values=words("output-format color"),
    long_paths=words("config"),
    refused=RUFF_REFUSED,
    abbreviations=False,
)
RUFF_SUBCOMMANDS: dict[str, Options] = {
    "check": RUFF_CHECK,
    "format": RUFF_FORMAT,
    "rule": RUFF_OTHER,
    "linter": RUFF_OTHER,
    "version": RUFF_OTHER,
    "config": RUFF_OTHER,
    "help": RUFF_OTHER,
}

# find: options before the starting points, then an expression of these primaries.
FIND_LEADING = frozenset({"-P", "-D", "-O"})  # -H/-L follow symlinks; -D takes a value
FIND_FLAGS = words(
    "-true -false -not ! -a -and -o -or , ( ) -prune -quit -print -print0 -ls -depth -d -mount -xdev -noleaf "
    "-daystart -ignore_readdir_race -noignore_readdir_race -warn -nowarn -empty -nouser -nogroup -readable "
    "-writable -executable -help --help -version --version"
)
FIND_VALUES = words(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -type -xtype -size -mtime -mmin -atime "
    "-amin -ctime -cmin -perm -user -group -uid -gid -links -inum -lname -ilname -printf -maxdepth -mindepth "
    "-regextype -used -context -fstype"
)
FIND_PATHS = words("-newer -anewer -cnewer -samefile")  # the value is a file whose times/inode are read
FIND_REFUSED = {
    **{name: "it runs programs" for name in ("-exec", "-execdir", "-ok", "-okdir")},
    "-delete": "it deletes files",
    **{name: "it writes files" for name in ("-fprint", "-fprint0", "-fprintf", "-fls")},
    "-files0-from": FILE_LIST,
    **{name: FOLLOWS for name in ("-L", "-H", "-follow")},
}
