<#
.SYNOPSIS
    Install, upgrade or remove the kpi_xl Excel add-in for the current Windows user.

.DESCRIPTION
    安装 / 升级 / 卸载 kpi_xl Excel 加载项（仅当前用户，无需管理员权限）。

    Install (run again to upgrade; every step is idempotent):
      1. creates (or reuses) a Python venv in %LOCALAPPDATA%\kpi_xl\venv
      2. pip installs kpi-xl into it (a kpi_xl-*.whl next to this script, -Package, or the
         PyPI name "kpi-xl") plus the xlwings version pinned in addin-requirements.txt
         (kpi_xl.xlam's VBA loads xlwings64-<version>.dll from the venv: versions must match)
      3. copies kpi_xl.xlam into the Excel start-up folder %APPDATA%\Microsoft\Excel\XLSTART
         (a default trusted location: the add-in's macros run without a prompt)
      4. writes %USERPROFILE%\.kpi_xl\kpi_xl.conf (INTERPRETER_WIN, UDF MODULES) - the
         settings file the add-in's VBA reads (its PROJECT_NAME is kpi_xl)
      5. with -TrustVbaProject: sets "Trust access to the VBA project object model" (needed by
         the ribbon button 导入函数 that imports the worksheet functions into the add-in)
    Everything added is listed in %LOCALAPPDATA%\kpi_xl\installed.txt.

    -Uninstall removes all of the above (the venv, the add-in, the settings file and the
    registry value if this script set it).

.PARAMETER Package
    What to pip install: a wheel path, a directory, or a requirement such as "kpi-xl==0.1.0".
    Default: the newest kpi_xl-*.whl next to this script, else "kpi-xl" from the package index.

.PARAMETER Python
    The Python (3.11 or newer) used to create the venv. Default: "py -3", then "python".

.PARAMETER TrustVbaProject
    Also enable "Trust access to the VBA project object model" for Excel (HKCU).

.PARAMETER Uninstall
    Remove everything this script installed.

.EXAMPLE
    install.bat
.EXAMPLE
    install.bat -Package C:\Downloads\kpi_xl-0.1.0-py3-none-any.whl -TrustVbaProject
.EXAMPLE
    install.bat -Uninstall
#>
[CmdletBinding()]
param(
    [string]$Package = "",
    [string]$Python = "",
    [switch]$TrustVbaProject,
    [switch]$Uninstall
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = "Stop"

$AppDir = Join-Path $env:LOCALAPPDATA "kpi_xl"
$VenvDir = Join-Path $AppDir "venv"
$VenvPython = Join-Path $VenvDir "Scripts\python.exe"
$Manifest = Join-Path $AppDir "installed.txt"
$XlStart = Join-Path $env:APPDATA "Microsoft\Excel\XLSTART"
$AddinName = "kpi_xl.xlam"
$AddinSource = Join-Path $PSScriptRoot $AddinName
$AddinTarget = Join-Path $XlStart $AddinName
$Requirements = Join-Path $PSScriptRoot "addin-requirements.txt"
$ConfDir = Join-Path $env:USERPROFILE ".kpi_xl"
$ConfFile = Join-Path $ConfDir "kpi_xl.conf"
# Kept with the variable unexpanded: the add-in expands it, and the file stays ASCII even
# when the Windows user name is not (VBA reads the file in the ANSI code page).
$InterpreterSetting = "%LOCALAPPDATA%\kpi_xl\venv\Scripts\pythonw.exe"
$UdfModules = "kpi_xl.udfs"
$VbomKey = "HKCU:\Software\Microsoft\Office\16.0\Excel\Security"

function Write-Step([string]$Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Assert-ExcelClosed {
    $excel = Get-Process -Name "EXCEL" -ErrorAction SilentlyContinue
    if ($excel) {
        throw "Excel 正在运行，请先关闭所有 Excel 窗口再运行本脚本。 (Close Excel first: the add-in file is in use while Excel runs.)"
    }
}

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "Command failed ($LASTEXITCODE): $Exe $($Arguments -join ' ')"
    }
}

function Test-PythonCommand([string[]]$Command) {
    # True when the command runs a Python >= 3.11 (the Microsoft Store alias prints nothing).
    try {
        $exe = $Command[0]
        $rest = @()
        if ($Command.Count -gt 1) { $rest = $Command[1..($Command.Count - 1)] }
        $out = & $exe @rest -c "import sys; print(int(sys.version_info >= (3, 11)))" 2>$null
        return ($LASTEXITCODE -eq 0 -and "$out".Trim() -eq "1")
    } catch {
        return $false
    }
}

function Find-BasePython {
    if ($Python) {
        if (-not (Test-PythonCommand @($Python))) { throw "-Python $Python is not Python 3.11 or newer." }
        return , @($Python)
    }
    foreach ($candidate in @(@("py", "-3"), @("python"))) {
        if ((Get-Command $candidate[0] -ErrorAction SilentlyContinue) -and (Test-PythonCommand $candidate)) {
            return , $candidate
        }
    }
    throw "找不到 Python 3.11 或更新版本。请从 https://www.python.org/downloads/windows/ 安装（勾选 Add python.exe to PATH），或用 -Python 指定 python.exe 路径。 (Python 3.11+ not found.)"
}

function Resolve-Package {
    if ($Package) {
        if (Test-Path -LiteralPath $Package) { return (Resolve-Path -LiteralPath $Package).Path }
        return $Package
    }
    $wheel = Get-ChildItem -Path $PSScriptRoot -Filter "kpi_xl-*.whl" -ErrorAction SilentlyContinue |
        Sort-Object LastWriteTime | Select-Object -Last 1
    if ($wheel) { return $wheel.FullName }
    return "kpi-xl"
}

function Add-ManifestLine([string]$Line) {
    $lines = @()
    if (Test-Path -LiteralPath $Manifest) { $lines = @(Get-Content -LiteralPath $Manifest) }
    if ($lines -notcontains $Line) {
        Add-Content -LiteralPath $Manifest -Value $Line -Encoding UTF8
    }
}

function Install-KpiXl {
    Assert-ExcelClosed
    if (-not (Test-Path -LiteralPath $AddinSource)) { throw "Missing $AddinSource (keep install.ps1 next to kpi_xl.xlam)." }
    New-Item -ItemType Directory -Force -Path $AppDir | Out-Null

    # 1. venv: reuse when its python still runs, else (re)create
    if ((Test-Path -LiteralPath $VenvPython) -and (Test-PythonCommand @($VenvPython))) {
        Write-Step "Reusing venv $VenvDir"
    } else {
        if (Test-Path -LiteralPath $VenvDir) { Remove-Item -LiteralPath $VenvDir -Recurse -Force }
        $base = Find-BasePython
        Write-Step "Creating venv $VenvDir with $($base -join ' ')"
        $baseExe = $base[0]
        $baseArgs = @()
        if ($base.Count -gt 1) { $baseArgs = $base[1..($base.Count - 1)] }
        Invoke-Checked $baseExe ($baseArgs + @("-m", "venv", $VenvDir))
    }
    Add-ManifestLine "venv=$VenvDir"

    # 2. packages (--upgrade: a re-run with a newer wheel upgrades)
    $pkg = Resolve-Package
    Write-Step "pip install $pkg"
    Invoke-Checked $VenvPython @("-m", "pip", "install", "--disable-pip-version-check", "--upgrade", $pkg, "-r", $Requirements)
    if ($pkg.EndsWith(".whl") -and (Test-Path -LiteralPath $pkg)) {
        # same version number, rebuilt wheel: make sure the files are the new ones
        Invoke-Checked $VenvPython @("-m", "pip", "install", "--disable-pip-version-check", "--force-reinstall", "--no-deps", $pkg)
    }
    Invoke-Checked $VenvPython @("-c", "import kpi_xl, xlwings; print('kpi_xl', kpi_xl.__version__, 'xlwings', xlwings.__version__)")

    # 3. the add-in, into the Excel start-up folder
    Write-Step "Copying $AddinName to $XlStart"
    New-Item -ItemType Directory -Force -Path $XlStart | Out-Null
    Copy-Item -LiteralPath $AddinSource -Destination $AddinTarget -Force
    # a downloaded copy carries the internet zone mark, under which Excel blocks its macros
    Unblock-File -LiteralPath $AddinTarget -ErrorAction SilentlyContinue
    Add-ManifestLine "addin=$AddinTarget"

    # 4. settings file read by the add-in's VBA (Write # format: "KEY","value")
    Write-Step "Writing $ConfFile"
    New-Item -ItemType Directory -Force -Path $ConfDir | Out-Null
    $conf = @(
        "`"INTERPRETER_WIN`",`"$InterpreterSetting`"",
        "`"UDF MODULES`",`"$UdfModules`""
    )
    Set-Content -LiteralPath $ConfFile -Value $conf -Encoding ASCII
    Add-ManifestLine "conf=$ConfDir"

    # 5. optional: trust access to the VBA project object model (for 导入函数)
    if ($TrustVbaProject) {
        Write-Step "Enabling 'Trust access to the VBA project object model'"
        $before = $null
        if (Test-Path $VbomKey) {
            $before = (Get-ItemProperty -Path $VbomKey -Name AccessVBOM -ErrorAction SilentlyContinue)
        } else {
            New-Item -Path $VbomKey -Force | Out-Null
        }
        if (-not $before -or $before.AccessVBOM -ne 1) {
            New-ItemProperty -Path $VbomKey -Name AccessVBOM -Value 1 -PropertyType DWord -Force | Out-Null
            Add-ManifestLine "accessvbom=set"
        }
    }

    Write-Host ""
    Write-Host "安装完成。打开 Excel，功能区出现「KPI」选项卡。首次使用请点「导入函数」。" -ForegroundColor Green
    Write-Host "Installed. Start Excel: the ribbon shows a KPI tab; click 导入函数 once to add KPI_TIER & co." -ForegroundColor Green
}

function Uninstall-KpiXl {
    Assert-ExcelClosed
    $entries = @()
    if (Test-Path -LiteralPath $Manifest) { $entries = @(Get-Content -LiteralPath $Manifest) }
    if ($entries -contains "accessvbom=set") {
        Write-Step "Resetting 'Trust access to the VBA project object model'"
        Remove-ItemProperty -Path $VbomKey -Name AccessVBOM -ErrorAction SilentlyContinue
    }
    foreach ($path in @($AddinTarget, $ConfDir, $AppDir)) {
        if (Test-Path -LiteralPath $path) {
            Write-Step "Removing $path"
            Remove-Item -LiteralPath $path -Recurse -Force
        }
    }
    Write-Host "已卸载 kpi_xl。 (kpi_xl removed.)" -ForegroundColor Green
}

try {
    if ($Uninstall) { Uninstall-KpiXl } else { Install-KpiXl }
    exit 0
} catch {
    Write-Host ""
    Write-Host "错误 / Error: $($_.Exception.Message)" -ForegroundColor Red
    exit 1
}
