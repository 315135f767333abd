#!/usr/bin/env bash
# kpi_xl for Excel on macOS: the ribbon buttons (RunPython) only.
#
#   ./install.sh                 install or upgrade (idempotent)
#   ./install.sh --package X     pip install X (a wheel path or requirement) instead of the
#                                newest kpi_xl-*.whl next to this script / "kpi-xl"
#   ./install.sh --python PY     create the venv with PY (Python 3.11+; default python3)
#   ./install.sh --uninstall     remove everything this script added
#
# What it does:
#   1. venv in ~/.kpi_xl/venv (created or reused), pip install kpi-xl + the xlwings version
#      kpi_xl.xlam was built from (../windows/addin-requirements.txt)
#   2. `xlwings runpython install`: copies xlwings' AppleScript into
#      ~/Library/Application Scripts/com.microsoft.Excel (RunPython needs it)
#   3. copies kpi_xl.xlam into Excel's start-up folder
#   4. writes the add-in's settings file (INTERPRETER_MAC) in Excel's sandbox folder
#
# Not on macOS: worksheet functions (=KPI_TIER(...)). Classic xlwings UDFs are Windows-only;
# the 导入函数 button shows an error here. For formulas on a Mac use xlwings Lite
# (install/lite, docs/LITE.md) or let `kpi-xl recalc` compute the workbook.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APP_DIR="$HOME/.kpi_xl"
VENV="$APP_DIR/venv"
MANIFEST="$APP_DIR/installed.txt"
ADDIN_SRC="$HERE/../windows/kpi_xl.xlam"
[ -f "$HERE/kpi_xl.xlam" ] && ADDIN_SRC="$HERE/kpi_xl.xlam"
REQUIREMENTS="$HERE/../windows/addin-requirements.txt"
[ -f "$HERE/addin-requirements.txt" ] && REQUIREMENTS="$HERE/addin-requirements.txt"
STARTUP_DIR="$HOME/Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"
SANDBOX_DIR="$HOME/Library/Containers/com.microsoft.Excel/Data"
CONF_FILE="$SANDBOX_DIR/kpi_xl.conf"
SCRIPTS_DIR="$HOME/Library/Application Scripts/com.microsoft.Excel"

PACKAGE=""
PYTHON="python3"
UNINSTALL=0

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --package) PACKAGE="${2:?--package needs a value}"; shift 2 ;;
        --python) PYTHON="${2:?--python needs a value}"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

step() { printf '==> %s\n' "$*"; }

excel_running() { pgrep -x "Microsoft Excel" >/dev/null 2>&1; }

record() {
    mkdir -p "$APP_DIR"
    touch "$MANIFEST"
    grep -qxF "$1" "$MANIFEST" || printf '%s\n' "$1" >>"$MANIFEST"
}

python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

resolve_package() {
    if [ -n "$PACKAGE" ]; then
        printf '%s\n' "$PACKAGE"
        return
    fi
    local wheel
    wheel="$(find "$HERE" -maxdepth 1 -name 'kpi_xl-*.whl' -print 2>/dev/null | sort | tail -n 1)"
    if [ -n "$wheel" ]; then printf '%s\n' "$wheel"; else printf '%s\n' "kpi-xl"; fi
}

do_install() {
    if excel_running; then
        echo "Excel 正在运行，请先退出 Excel。 (Quit Excel first.)" >&2
        exit 1
    fi
    [ -f "$ADDIN_SRC" ] || { echo "missing $ADDIN_SRC" >&2; exit 1; }

    if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
        step "Reusing venv $VENV"
    else
        python_ok "$PYTHON" || {
            echo "需要 Python 3.11 或更新版本（python.org 或 Homebrew）。 ($PYTHON is not Python 3.11+)" >&2
            exit 1
        }
        rm -rf "$VENV"
        step "Creating venv $VENV"
        mkdir -p "$APP_DIR"
        "$PYTHON" -m venv "$VENV"
    fi
    record "venv=$VENV"

    local pkg
    pkg="$(resolve_package)"
    step "pip install $pkg"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade "$pkg" -r "$REQUIREMENTS"
    case "$pkg" in
        *.whl) "$VENV/bin/python" -m pip install --disable-pip-version-check --force-reinstall --no-deps "$pkg" ;;
    esac

    step "xlwings runpython install"
    if [ ! -d "$SCRIPTS_DIR" ] || ! ls "$SCRIPTS_DIR"/xlwings-*.applescript >/dev/null 2>&1; then
        record "applescript=added"
    fi
    "$VENV/bin/xlwings" runpython install

    step "Copying kpi_xl.xlam to $STARTUP_DIR"
    mkdir -p "$STARTUP_DIR"
    cp -f "$ADDIN_SRC" "$STARTUP_DIR/kpi_xl.xlam"
    xattr -d com.apple.quarantine "$STARTUP_DIR/kpi_xl.xlam" 2>/dev/null || true
    record "addin=$STARTUP_DIR/kpi_xl.xlam"

    step "Writing $CONF_FILE"
    mkdir -p "$SANDBOX_DIR"
    printf '"INTERPRETER_MAC","%s"\n' "$VENV/bin/python" >"$CONF_FILE"
    record "conf=$CONF_FILE"

    echo
    echo "安装完成：打开 Excel，功能区出现「KPI」选项卡（刷新工资表、导入平台数据、重算、帮助）。"
    echo "macOS 上不支持工作表函数（KPI_TIER 等）；请用 xlwings Lite 或 kpi-xl recalc。"
}

do_uninstall() {
    if excel_running; then
        echo "Excel 正在运行，请先退出 Excel。 (Quit Excel first.)" >&2
        exit 1
    fi
    if [ -f "$MANIFEST" ] && grep -qxF "applescript=added" "$MANIFEST"; then
        step "Removing xlwings AppleScript"
        rm -f "$SCRIPTS_DIR"/xlwings-*.applescript
    fi
    step "Removing the add-in, settings and venv"
    rm -f "$STARTUP_DIR/kpi_xl.xlam" "$CONF_FILE"
    rm -rf "$APP_DIR"
    echo "已卸载 kpi_xl。 (kpi_xl removed.)"
}

if [ "$UNINSTALL" -eq 1 ]; then do_uninstall; else do_install; fi
